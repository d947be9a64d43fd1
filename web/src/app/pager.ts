// Cursor paging over the server's after/limit lists: the cursors of the pages before the
// current one are kept, so "Previous" works without the server paging backwards. Pure, tested.

export interface CursorPager {
  // Cursor of the page shown now ('' = first page).
  after: string;
  // Cursors of the pages before it, oldest first.
  before: string[];
}

export const kFirstPage: CursorPager = { after: '', before: [] };

export function nextPage(p: CursorPager, nextAfter: string | null | undefined): CursorPager {
  if (!nextAfter) return p;
  return { after: nextAfter, before: [...p.before, p.after] };
}

export function previousPage(p: CursorPager): CursorPager {
  if (p.before.length === 0) return kFirstPage;
  return { after: p.before[p.before.length - 1] ?? '', before: p.before.slice(0, -1) };
}

export function pageNumber(p: CursorPager): number {
  return p.before.length + 1;
}
