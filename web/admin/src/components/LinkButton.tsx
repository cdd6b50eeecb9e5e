import { Button, type ButtonProps } from 'antd';
import { useNavigate } from 'react-router';

/** A button that navigates inside the app (no <a> around a <button>). */
export function LinkButton({ to, ...props }: ButtonProps & { to: string }) {
  const navigate = useNavigate();
  return <Button {...props} onClick={() => void navigate(to)} />;
}
