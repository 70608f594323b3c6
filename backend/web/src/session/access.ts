import type { User, UserRef } from '../api/session';

/**
 * Whether the signed-in user may change (delete, share) a video with this owner. The API decides in the end
 * (a coach's change to a rider's video answers 403 read_only); the app just does not offer what would be refused.
 */
export function mayChange(owner: UserRef | null | undefined, user: User | null | undefined): boolean {
  if (!user || !owner) return true; // no accounts known (an older API): the API still has the last word
  return user.role === 'admin' || owner.id === user.id;
}

/** Whether cards should say whose video it is: for those who see more than their own. */
export const showsOwners = (user: User | null | undefined): boolean => user?.role === 'coach' || user?.role === 'admin';
