// Credentials out of what is written, shown or sent: a URI's user:password@ is the only place they appear.

/** `user:password@` removed from every http(s) URL in `text`: what is sent to a server never carries credentials. */
export function redactCredentials(text: string): string {
  return text.replace(/\b(https?:\/\/)[^\s/?#@'"]*@/gi, '$1');
}

/** A URI fit for messages: user:password@ removed. */
export function redactUri(uri: string): string {
  try {
    const url = new URL(uri);
    url.username = '';
    url.password = '';
    return url.toString();
  } catch {
    return redactCredentials(uri);
  }
}
