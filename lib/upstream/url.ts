// What an upstream's URL may be: https, or plain http to a loopback host only (the local emulator).

/** https, or plain http to a loopback host only: grants and tokens never cross a network in clear. */
export function isUpstreamUrl(value: string): boolean {
  if (/\s/.test(value)) return false;
  try {
    const url = new URL(value);
    if (url.protocol === "https:") return url.hostname !== "";
    return url.protocol === "http:" && ["127.0.0.1", "localhost", "[::1]"].includes(url.hostname);
  } catch {
    return false;
  }
}
