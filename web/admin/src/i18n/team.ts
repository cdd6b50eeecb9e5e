// Strings of the console's Team, audit log, account security and agency access screens, in both
// languages. Spread into en.ts and zh-CN.ts; the Chinese object must have
// exactly the keys of the English one (a type error otherwise).
export const teamEn = {
  'team.placeholder': 'team',
} satisfies Record<string, string>;

export const teamZhCN: Record<keyof typeof teamEn, string> = {
  'team.placeholder': 'team',
};
