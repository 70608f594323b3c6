import { fireEvent, render, screen, waitFor } from '@testing-library/react';
import { useState } from 'react';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { getVideo } from '../api/client';
import { resetSessionForTests, type User } from '../api/session';
import { ownerOptions } from '../components/OwnerPicker';
import { mayChange, showsOwners } from './access';
import { SessionGate, useSession } from './SessionContext';

const json = (status: number, body: unknown, headers: Record<string, string> = {}) =>
  new Response(JSON.stringify(body), { status, headers: { 'content-type': 'application/json', ...headers } });
const ana: User = { id: 'u-ana', username: 'ana', role: 'rider', riders: [] };
const cora: User = { id: 'u-cora', username: 'cora', role: 'coach', riders: [{ id: 'u-ana', username: 'ana' }] };
const admin: User = { id: 'u-admin', username: 'admin', role: 'admin', riders: [] };

beforeEach(() => resetSessionForTests());
afterEach(() => vi.unstubAllGlobals());

describe('who may change what', () => {
  it('the owner and an admin may change a video; a coach may only look at a rider’s', () => {
    expect(mayChange({ id: 'u-ana', username: 'ana' }, ana)).toBe(true);
    expect(mayChange({ id: 'u-ana', username: 'ana' }, cora)).toBe(false);
    expect(mayChange({ id: 'u-ana', username: 'ana' }, admin)).toBe(true);
    expect(mayChange({ id: 'u-ben', username: 'ben' }, ana)).toBe(false);
    expect([ana, cora, admin].map(showsOwners)).toEqual([false, true, true]);
  });

  it('a coach picks among their riders and themself; an admin among every account; a rider gets no picker', () => {
    expect(ownerOptions(cora, null).map((o) => o.value)).toEqual(['', 'ana', 'cora']);
    expect(ownerOptions(admin, [admin, ana]).map((o) => o.label)).toEqual(['Everyone', 'admin (me)', 'ana']);
    expect(ownerOptions(ana, null)).toEqual([]);
  });
});

function Counter() {
  const [n, setN] = useState(0);
  const s = useSession();
  return (
    <button type="button" onClick={() => setN(n + 1)}>
      {s?.session.user.username} clicked {n}
    </button>
  );
}

describe('SessionGate', () => {
  it('shows sign-in when nobody is signed in, then the app; a 429 shows the wait and blocks the button', async () => {
    const fetchMock = vi
      .fn()
      .mockResolvedValueOnce(json(401, { error: 'unauthenticated', detail: 'sign in first' }))
      .mockResolvedValueOnce(json(429, { error: 'too_many_attempts', detail: 'later' }, { 'Retry-After': '30' }))
      .mockResolvedValueOnce(json(200, { user: ana, csrfToken: 't', authDisabled: false }));
    vi.stubGlobal('fetch', fetchMock);
    render(<SessionGate><Counter /></SessionGate>);
    fireEvent.change(await screen.findByLabelText('Username'), { target: { value: 'ana' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pw' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    expect((await screen.findByRole('alert')).textContent).toMatch(/Too many failed sign-ins\. Try again in 30 seconds\./);
    expect((screen.getByRole('button', { name: 'Sign in' }) as HTMLButtonElement).disabled).toBe(true);
  });

  it('a session lost mid-use shows sign-in over the app without unmounting it; the same user carries on', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { user: ana, csrfToken: 't1', authDisabled: false })));
    render(<SessionGate><Counter /></SessionGate>);
    fireEvent.click(await screen.findByRole('button', { name: /ana clicked 0/ }));
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'unauthenticated', detail: 'sign in first' })));
    await getVideo('v1').catch(() => undefined);
    expect(await screen.findByTestId('session-expired')).toBeTruthy();
    expect(screen.queryByRole('button', { name: /clicked/ })).toBeNull(); // hidden, not gone
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { user: ana, csrfToken: 't2', authDisabled: false })));
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pw' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('button', { name: /ana clicked 1/ })).toBeTruthy());
  });

  it('another user signing in after a lost session gets a fresh app', async () => {
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { user: ana, csrfToken: 't1', authDisabled: false })));
    render(<SessionGate><Counter /></SessionGate>);
    fireEvent.click(await screen.findByRole('button', { name: /ana clicked 0/ }));
    vi.stubGlobal('fetch', vi.fn(async () => json(401, { error: 'unauthenticated', detail: 'sign in first' })));
    await getVideo('v1').catch(() => undefined);
    vi.stubGlobal('fetch', vi.fn(async () => json(200, { user: cora, csrfToken: 't2', authDisabled: false })));
    fireEvent.change(await screen.findByLabelText('Username'), { target: { value: 'cora' } });
    fireEvent.change(screen.getByLabelText('Password'), { target: { value: 'pw' } });
    fireEvent.click(screen.getByRole('button', { name: 'Sign in' }));
    await waitFor(() => expect(screen.getByRole('button', { name: /cora clicked 0/ })).toBeTruthy());
  });
});
