import { useId } from 'react';
import { listUsers } from '../api/client';
import type { User } from '../api/session';
import { useAsync } from '../hooks/useAsync';

/** Options for whose videos to list: a coach picks among their riders (or themself), an admin among all accounts. */
export function ownerOptions(user: User, accounts: User[] | null): { value: string; label: string }[] {
  if (user.role === 'coach') {
    return [
      { value: '', label: 'All my riders' },
      ...(user.riders ?? []).map((r) => ({ value: r.username, label: r.username })),
      { value: user.username, label: `${user.username} (me)` },
    ];
  }
  if (user.role === 'admin') {
    return [{ value: '', label: 'Everyone' }, ...(accounts ?? []).map((a) => ({ value: a.username, label: a.id === user.id ? `${a.username} (me)` : a.username }))];
  }
  return [];
}

/** The library's owner filter (GET /api/videos?owner=<username>); riders see only their own, so they get none. */
export function OwnerPicker({ user, value, onChange }: { user: User; value: string; onChange: (owner: string) => void }) {
  const ids = useId();
  const [accounts] = useAsync(() => (user.role === 'admin' ? listUsers().then((r) => r.items) : Promise.resolve(null)), [user.id, user.role]);
  if (user.role === 'rider') return null;
  const options = ownerOptions(user, accounts.status === 'ready' ? accounts.data : null);
  return (
    <label className="field field-inline owner-picker" htmlFor={`${ids}-owner`}>
      <span>{user.role === 'coach' ? 'Rider' : 'Owner'}</span>
      <select id={`${ids}-owner`} value={value} onChange={(e) => onChange(e.target.value)} data-testid="owner-picker">
        {options.map((o) => (
          <option key={o.value} value={o.value}>
            {o.label}
          </option>
        ))}
      </select>
    </label>
  );
}
