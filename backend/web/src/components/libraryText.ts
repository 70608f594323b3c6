/** The library's words and limits, kept apart from its components (fast refresh wants component-only modules). */

/** How long a deleted video can be brought back before the DELETE is sent. */
export const UNDO_MS = 6000;
export const TITLE_MAX = 120;

/** When it was uploaded, date and time, in the reader's locale. */
export const formatWhen = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

/** A failed analysis in plain words, and what to do next: the job's error is already written for riders. */
export function failureAdvice(error: string | null | undefined): { what: string; next: string } {
  const what = error || 'The analysis stopped with an error.';
  if (/damaged|not a video we can read|cannot be read|undecodable/i.test(what)) {
    return { what: 'This file is damaged; export it again from your phone.', next: 'Then upload the new export and delete this one.' };
  }
  if (/missing from the server/i.test(what)) return { what, next: 'Upload the clip again, then delete this card.' };
  return { what, next: 'Try the analysis again; if it fails again, delete this card and upload the clip once more.' };
}

