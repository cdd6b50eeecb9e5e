import { useId } from 'react';

/** The Minishop mark: an "M" on an indigo tile. */
export function LogoMark({ size = 32 }: { size?: number }) {
  const id = useId();
  return (
    <svg width={size} height={size} viewBox="0 0 32 32" aria-hidden="true" focusable="false">
      <defs>
        <linearGradient id={id} x1="0" y1="0" x2="1" y2="1">
          <stop offset="0" stopColor="#818cf8" />
          <stop offset="1" stopColor="#4338ca" />
        </linearGradient>
      </defs>
      <rect width="32" height="32" rx="8" fill={`url(#${id})`} />
      <path
        d="M8 23V10.5c0-.6.7-.9 1.1-.5L16 16.5l6.9-6.5c.4-.4 1.1-.1 1.1.5V23"
        fill="none"
        stroke="#fff"
        strokeWidth="2.6"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}

/** Mark and name; tone "light" on dark backgrounds. */
export function Logo({ tone = 'dark', collapsed = false }: { tone?: 'light' | 'dark'; collapsed?: boolean }) {
  return (
    <span className={`logo logo-${tone}`}>
      <LogoMark />
      {!collapsed && <span className="logo-word">Minishop</span>}
    </span>
  );
}
