import { useTitle } from '../app/hooks';
import { Link, PageHeader } from '../components/ui';

export function NotFoundPage() {
  useTitle('Not found');
  return (
    <>
      <PageHeader title="Page not found" />
      <p>
        There is nothing at this address. <Link href="/">Go to the start page</Link>.
      </p>
    </>
  );
}

export function NotPermittedPage() {
  useTitle('Not permitted');
  return (
    <>
      <PageHeader title="Not permitted" />
      <p>Your role does not include this page. An administrator can change your role.</p>
    </>
  );
}
