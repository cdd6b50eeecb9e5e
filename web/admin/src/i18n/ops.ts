// Strings of the console's Operations: import/export, reconciliation, customs, logistics screens, in both
// languages. Spread into en.ts and zh-CN.ts; the Chinese object must have
// exactly the keys of the English one (a type error otherwise).
export const opsEn = {
  'ops.placeholder': 'ops',
} satisfies Record<string, string>;

export const opsZhCN: Record<keyof typeof opsEn, string> = {
  'ops.placeholder': 'ops',
};
