// What every page needs: the API, the signed-in user and a way to tell the operator something.
import { createContext } from 'preact';
import { useContext } from 'preact/hooks';
import type { Api } from '../api/api';
import type { User } from '../api/types';
import type { Permission } from '../auth/roles';

export type NoticeKind = 'success' | 'error' | 'info';

export interface AppContextValue {
  api: Api;
  user: User;
  can: (permission: Permission) => boolean;
  notify: (message: string, kind?: NoticeKind) => void;
  signOut: () => void;
}

export const AppContext = createContext<AppContextValue | null>(null);

export function useApp(): AppContextValue {
  const value = useContext(AppContext);
  if (!value) throw new Error('useApp outside AppContext');
  return value;
}
