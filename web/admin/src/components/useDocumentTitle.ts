import { useEffect } from 'react';

/** Sets the tab title: "part · part · Minishop". */
export function useDocumentTitle(...parts: (string | undefined | false)[]): void {
  const title = [...parts.filter(Boolean), 'Minishop'].join(' · ');
  useEffect(() => {
    document.title = title;
  }, [title]);
}
