/** The app's mark and name, as the header shows it (also on the sign-in and share pages). */
export function Brand({ href }: { href?: string }) {
  return (
    <a className="brand" href={href ?? '/'}>
      <svg viewBox="0 0 32 32" width="26" height="26" aria-hidden="true">
        <rect width="32" height="32" rx="8" fill="#0f1b33" />
        <path d="M6 22 L26 10" stroke="#38bdf8" strokeWidth="4" strokeLinecap="round" />
        <circle cx="19" cy="8" r="2.6" fill="#fde047" />
      </svg>
      <span>
        Pose<strong>Lab</strong>
      </span>
    </a>
  );
}
