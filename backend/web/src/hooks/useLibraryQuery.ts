import { useEffect, useState } from 'react';
import type { LibrarySort } from '../api/client';
import type { JobState, Role } from '../api/types';

/** How long typing settles before the list is asked again (ms). */
const SEARCH_SETTLE_MS = 250;

/**
 * What the library lists: role, state and owner filters, the title search (asked for once typing settles), the
 * order and the page. A new search, filter or order starts again at page 1.
 */
export function useLibraryQuery() {
  const [role, setRole] = useState<Role | ''>('');
  const [status, setStatus] = useState<JobState | ''>('');
  const [sort, setSort] = useState<LibrarySort>('date');
  const [owner, setOwner] = useState('');
  const [search, setSearch] = useState('');
  const [q, setQ] = useState('');
  const [paging, setPaging] = useState({ view: '', page: 1 });
  useEffect(() => {
    const t = setTimeout(() => setQ(search.trim()), SEARCH_SETTLE_MS);
    return () => clearTimeout(t);
  }, [search]);
  const view = JSON.stringify([role, status, sort, q, owner]);
  const page = paging.view === view ? paging.page : 1;
  return {
    role, setRole, status, setStatus, sort, setSort, owner, setOwner,
    /** The search box's text, and `q`: the settled search the list is asked for. */
    search, setSearch, q,
    page,
    setPage: (p: number) => setPaging({ view, page: p }),
    /** Whether anything narrows the list (then an empty page is "no match", not a first visit). */
    filtered: Boolean(role || status || q || owner),
  };
}
