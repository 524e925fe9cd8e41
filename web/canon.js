// canon.js - the state checksum of docs/reference/canon.md ("The
// checksum"), so the pages can check their replica against the `sum` the
// server sends with every change. It computes the checksum of a whole
// document from scratch (no incremental upkeep), with BigInt for the
// 64-bit arithmetic; it is meant for the states a page shows, not for
// megabyte documents at thousands of changes a second.

const M64 = (1n << 64n) - 1n;
const ARRAY_INIT = 0x9e3779b97f4a7c15n;
const ELEMENT = 0x85ebca77c2b2ae63n;
const MEMBER = 0x165667b19e3779f9n;
const OBJECT = 0xc2b2ae3d27d4eb4fn;
const utf8 = new TextEncoder();

function mix(x) {
  x ^= x >> 33n;
  x = (x * 0xff51afd7ed558ccdn) & M64;
  x ^= x >> 33n;
  x = (x * 0xc4ceb9fe1a85ec53n) & M64;
  x ^= x >> 33n;
  return x;
}

// FNV-1a 64 over bytes, in two 32-bit halves: the same result as BigInt
// arithmetic, several times faster per byte.
function fnv(bytes) {
  let hi = 0xcbf29ce4;
  let lo = 0x84222325;
  for (const b of bytes) {
    lo ^= b;
    // (hi:lo) * 0x100000001b3 = (hi:lo) * 0x1b3 + (lo << 40), mod 2^64
    const l0 = (lo & 0xffff) * 0x1b3;
    const l1 = (lo >>> 16) * 0x1b3 + (l0 >>> 16);
    const newLo = ((l1 & 0xffff) << 16) | (l0 & 0xffff);
    const carry = Math.floor(l1 / 0x10000);
    hi = (Math.imul(hi, 0x1b3) + carry + (lo << 8)) >>> 0;
    lo = newLo >>> 0;
  }
  return (BigInt(hi) << 32n) | BigInt(lo);
}

// The canonical text of a number (canon.md, "Numbers"): C's shortest
// round-tripping %.Pg, built from the shortest digits JavaScript prints.
export function canonNumber(d) {
  if (d === 0) {
    return '0';
  }
  if (Number.isInteger(d) && Math.abs(d) <= 9007199254740992) {
    return BigInt(d).toString();
  }
  const [mant, expText] = d.toExponential().split('e');
  const neg = mant.startsWith('-');
  const digits = mant.replace('-', '').replace('.', '');
  const p = digits.length;
  const x = Number(expText);
  let s;
  if (x >= -4 && x < p) {
    if (x < 0) {
      s = '0.' + '0'.repeat(-x - 1) + digits;
    } else {
      const int = digits.slice(0, x + 1);
      const frac = digits.slice(x + 1);
      s = frac.length > 0 ? int + '.' + frac : int;
    }
  } else {
    s = digits[0] + (p > 1 ? '.' + digits.slice(1) : '');
    s += 'e' + (x < 0 ? '-' : '+') + String(Math.abs(x)).padStart(2, '0');
  }
  return (neg ? '-' : '') + s;
}

// The canonical bytes of a string, quotes included (canon.md, "Strings").
function canonStringBytes(str) {
  const raw = utf8.encode(str);
  const out = [0x22];
  const hex = '0123456789abcdef';
  for (const b of raw) {
    if (b === 0x22 || b === 0x5c) {
      out.push(0x5c, b);
    } else if (b >= 0x20) {
      out.push(b);
    } else {
      const named = { 8: 0x62, 9: 0x74, 10: 0x6e, 12: 0x66, 13: 0x72 }[b];
      if (named !== undefined) {
        out.push(0x5c, named);
      } else {
        out.push(0x5c, 0x75, 0x30, 0x30, hex.charCodeAt(b >> 4), hex.charCodeAt(b & 15));
      }
    }
  }
  out.push(0x22);
  return out;
}

function scalarHash(v) {
  let bytes;
  if (typeof v === 'string') {
    bytes = canonStringBytes(v);
  } else {
    const text = v === null ? 'null' : typeof v === 'number' ? canonNumber(v) : String(v);
    bytes = utf8.encode(text);
  }
  return mix(fnv(bytes));
}

export function hash(v) {
  if (Array.isArray(v)) {
    let h = ARRAY_INIT;
    for (const e of v) {
      h = mix((h + mix(hash(e) ^ ELEMENT)) & M64);
    }
    return h;
  }
  if (v !== null && typeof v === 'object') {
    let s = 0n;
    for (const [k, val] of Object.entries(v)) {
      s = (s + mix(scalarHash(k) ^ mix((hash(val) + MEMBER) & M64))) & M64;
    }
    return mix((s + OBJECT) & M64);
  }
  return scalarHash(v);
}

// checksum(doc) -> 16 lowercase hex digits, as the server's `sum`.
export function checksum(doc) {
  return hash(doc).toString(16).padStart(16, '0');
}
