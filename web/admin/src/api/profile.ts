import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { api } from './client';
import { sessionKey } from './session';
import type { Profile, ProfileInput, Session, SignupRequest, SlugStatus } from './types';

const enc = encodeURIComponent;

export const profileKey = (slug: string) => ['profile', slug] as const;

export function useProfile(slug: string) {
  return useQuery({
    queryKey: profileKey(slug),
    queryFn: ({ signal }) => api.get<Profile>(`/tenants/${enc(slug)}/profile`, { signal }),
  });
}

export function useSaveProfile(slug: string) {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: ProfileInput) => api.put<Profile>(`/tenants/${enc(slug)}/profile`, body),
    onSuccess: (p) => {
      qc.setQueryData(profileKey(slug), p);
      // The display name is the shop's name in the session's shop list.
      void qc.invalidateQueries({ queryKey: sessionKey });
      void qc.invalidateQueries({ queryKey: ['tenant', slug] });
    },
  });
}

/** The profile as the body of a PUT, for editing one part of it. */
export function profileInput(p: Profile): ProfileInput {
  return {
    display_name: p.display_name,
    legal_name: p.legal_name,
    country: p.country,
    contact_name: p.contact_name,
    contact_email: p.contact_email,
    contact_phone: p.contact_phone,
    logo_url: p.logo_image ? null : p.logo_url,
    logo_image: p.logo_image,
    locales: p.locales,
    default_locale: p.default_locale,
  };
}

export function useSlugAvailability(slug: string) {
  return useQuery({
    queryKey: ['slug', slug],
    queryFn: ({ signal }) => api.get<SlugStatus>('/slugs', { signal, query: { slug } }),
    enabled: slug.length > 0,
    staleTime: 5_000,
  });
}

export function useSignUp() {
  const qc = useQueryClient();
  return useMutation({
    mutationFn: (body: SignupRequest) => api.post<Session>('/signup', body),
    onSuccess: (session) => {
      qc.removeQueries({ predicate: (q) => q.queryKey[0] !== sessionKey[0] });
      qc.setQueryData(sessionKey, session);
    },
  });
}
