import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';
import { fixtures } from './dev/fixtures.ts';

// The console is served by the Go binary at /admin/ from dist/app (embedded
// by embed.go). In development, `npm run dev` proxies the API to a running
// `make run` (MINISHOP_API_URL, default http://127.0.0.1:8080), and
// `npm run dev:fixtures` answers it from dev/fixtures.ts instead.
export default defineConfig(({ command, mode }) => {
  const useFixtures = command === 'serve' && mode === 'fixtures';
  const api = process.env.MINISHOP_API_URL ?? 'http://127.0.0.1:8080';
  return {
    base: '/admin/',
    plugins: [react(), ...(useFixtures ? [fixtures()] : [])],
    build: {
      outDir: 'dist/app',
      emptyOutDir: true,
      assetsDir: 'assets',
      target: 'es2022',
      sourcemap: false,
      chunkSizeWarningLimit: 1500,
      rolldownOptions: {
        output: {
          // Libraries change less often than the console: a separate,
          // long-cached chunk survives most deployments.
          codeSplitting: {
            groups: [
              { name: 'react', test: /node_modules[\\/](react|react-dom|scheduler|react-router)[\\/]/ },
              { name: 'antd', test: /node_modules[\\/](antd|@ant-design|rc-[^\\/]+|@rc-component|dayjs)[\\/]/ },
            ],
          },
        },
      },
    },
    server: {
      host: '127.0.0.1',
      port: 5173,
      strictPort: false,
      open: false,
      proxy: useFixtures
        ? undefined
        : {
            '/api': { target: api, changeOrigin: false },
            '/healthz': { target: api },
            '/readyz': { target: api },
          },
    },
    preview: { host: '127.0.0.1', port: 4173 },
  };
});
