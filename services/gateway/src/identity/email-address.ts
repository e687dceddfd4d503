// What the forms accept as an e-mail address: one @, a dot in the domain, nothing that would need
// quoting, within the lengths mail servers take. Not a full RFC 5321 check: the link mailed there
// is the real test.
const EMAIL = /^[^\s@<>()[\]\\,;:"]{1,64}@[^\s@<>()[\]\\,;:"]{1,190}\.[^\s@<>()[\]\\,;:".]{2,}$/;

export function isEmailAddress(text: string): boolean {
  return EMAIL.test(text);
}
