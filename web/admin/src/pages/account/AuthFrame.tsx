import { CheckCircleFilled } from '@ant-design/icons';
import type { ReactNode } from 'react';
import { LanguageSwitch } from '../../components/LanguageSwitch';
import { Logo } from '../../components/Logo';
import { useI18n } from '../../i18n/I18nProvider';

/**
 * The two-column frame of the pages before sign-in (sign-in, sign-up, password
 * reset, invitations): the hero with three selling points, the language
 * switch, and the form column.
 */
export function AuthFrame({ hero = 'login', wrapClassName, children }: { hero?: 'login' | 'signup'; wrapClassName?: string; children: ReactNode }) {
  const { t } = useI18n();
  return (
    <div className="login-page">
      <aside className="login-hero" aria-hidden="true">
        <Logo tone="light" />
        <div className="login-hero-body">
          <h2>{t(`${hero}.hero.title`)}</h2>
          <ul>
            <li>
              <CheckCircleFilled /> {t(`${hero}.hero.point1`)}
            </li>
            <li>
              <CheckCircleFilled /> {t(`${hero}.hero.point2`)}
            </li>
            <li>
              <CheckCircleFilled /> {t(`${hero}.hero.point3`)}
            </li>
          </ul>
        </div>
        <div className="login-hero-foot">{t('login.footer')}</div>
      </aside>
      <main className="login-main">
        <div className="login-top">
          <span className="login-mobile-logo">
            <Logo />
          </span>
          <LanguageSwitch />
        </div>
        <div className={wrapClassName ? `login-form-wrap ${wrapClassName}` : 'login-form-wrap'}>{children}</div>
      </main>
    </div>
  );
}
