import { Avatar } from 'antd';

const palette = ['#4f46e5', '#0ea5e9', '#10b981', '#f59e0b', '#ef4444', '#8b5cf6', '#14b8a6', '#ec4899', '#64748b'];

function hash(s: string): number {
  let h = 0;
  for (let i = 0; i < s.length; i++) h = (h * 31 + s.charCodeAt(i)) | 0;
  return Math.abs(h);
}

export function initials(name: string): string {
  const words = name.trim().split(/\s+/).filter(Boolean);
  if (words.length === 0) return '?';
  const first = [...(words[0] ?? '')][0] ?? '';
  const second = words.length > 1 ? ([...(words[1] ?? '')][0] ?? '') : ([...(words[0] ?? '')][1] ?? '');
  return (first + second).toUpperCase();
}

/** A coloured tile with the shop's initials; the colour is stable per slug. */
export function ShopAvatar({ slug, name, size = 32 }: { slug: string; name: string; size?: number }) {
  return (
    <Avatar
      shape="square"
      size={size}
      style={{ background: palette[hash(slug) % palette.length], flex: 'none', fontWeight: 600 }}
      aria-hidden="true"
    >
      {initials(name)}
    </Avatar>
  );
}
