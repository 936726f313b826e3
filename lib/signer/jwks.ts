// The JWKS an operator registers on the Maskinporten client (and the broker serves): public members only, in a fixed order.
import type { PublicJwk } from "./signer.ts";

export interface Jwks {
  keys: PublicJwk[];
}

const defined = <T extends object>(members: T) =>
  Object.fromEntries(Object.entries(members).filter(([, v]) => v !== undefined)) as {
    [K in keyof T]?: Exclude<T[K], undefined>;
  };

/**
 * kty, alg, use, kid, then the key's own members (n, e), then x5c when a certificate is configured.
 * Each key once: clients that share a key list it once.
 */
export function jwksOf(...jwks: PublicJwk[]): Jwks {
  const keys = jwks.map(({ kty, alg, use, kid, n, e, crv, x, y, x5c }) => ({
    ...defined({ kty }),
    alg,
    use,
    kid,
    ...defined({ n, e, crv, x, y, x5c }),
  }));
  return { keys: [...new Map(keys.map((key) => [JSON.stringify(key), key])).values()] };
}
