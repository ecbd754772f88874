// Bitwarden's unencrypted JSON export, in and out of a Veil vault (issue 16 point 6). Pure functions, no keys:
// the page seals what `fromBitwarden` returns and opens what `toBitwarden` is given. The mapping (docs/OPERATIONS.md,
// "Bitwarden import and export") is chosen so that an export of an import gives the same items back:
//   name → title, notes → notes, folder → the first tag (export: the first tag → the folder);
//   login, card and identity values → fields labelled `login.username`, `login.uri`, `card.number`,
//   `identity.firstName`, … (Bitwarden's own keys, so the item's type is read back from them);
//   custom fields → fields labelled with their name, a hidden one with " (hidden)", a yes/no one with " (boolean)",
//   a linked one with " (linked)" after it. Values not in Veil's format (favourite, re-prompt, URI match rules,
//   password history, passkeys) are not kept.
// A file that is not such an export is refused with one sentence and nothing is imported.

export interface PlainItemInput {
  title: string;
  notes: string | null;
  tags: string[];
  fields: { label: string; value: string }[];
}

export class BitwardenFormatError extends Error {
  constructor(message: string) {
    super(message);
    this.name = "BitwardenFormatError";
  }
}

const CardKeys = ["cardholderName", "brand", "number", "expMonth", "expYear", "code"] as const;
const IdentityKeys = [
  "title", "firstName", "middleName", "lastName", "address1", "address2", "address3", "city", "state", "postalCode",
  "country", "company", "email", "phone", "ssn", "username", "passportNumber", "licenseNumber",
] as const;
const LoginKeys = ["username", "password", "totp"] as const;
const CustomSuffix: Record<number, string> = { 0: "", 1: " (hidden)", 2: " (boolean)", 3: " (linked)" };
const MaxFields = 256;
const MaxTags = 64;
const MaxValueBytes = 65536;
const utf8 = new TextEncoder();

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

function optionalString(where: string, v: unknown, key: string): string | null {
  if (v === undefined || v === null) return null;
  if (typeof v !== "string") throw new BitwardenFormatError(`${where}: "${key}" is not text.`);
  return v;
}

function checkValue(where: string, value: string): string {
  if (!value.isWellFormed() || utf8.encode(value).length > MaxValueBytes) {
    throw new BitwardenFormatError(`${where} holds a value longer than 64 KiB or with a broken character, which a vault cannot store.`);
  }
  return value;
}

/** Parses an unencrypted Bitwarden JSON export into plain items; throws BitwardenFormatError (one sentence) otherwise. */
export function fromBitwarden(text: string): PlainItemInput[] {
  let root: unknown;
  try {
    root = JSON.parse(text);
  } catch {
    throw new BitwardenFormatError("This file is not a Bitwarden export: it is not valid JSON.");
  }
  if (!isObject(root) || !Array.isArray(root.items)) {
    throw new BitwardenFormatError("This file is not a Bitwarden JSON export: it has no list of items.");
  }
  if (root.encrypted === true) {
    throw new BitwardenFormatError("This Bitwarden export is encrypted; export again from Bitwarden choosing the unencrypted .json format.");
  }
  const folders = new Map<string, string>();
  if (root.folders !== undefined && root.folders !== null) {
    if (!Array.isArray(root.folders)) throw new BitwardenFormatError("This file is not a Bitwarden JSON export: its folders are not a list.");
    root.folders.forEach((f, i) => {
      if (!isObject(f) || typeof f.id !== "string" || typeof f.name !== "string") throw new BitwardenFormatError(`Folder ${i + 1} of this export has no id or name.`);
      folders.set(f.id, checkValue(`Folder ${i + 1}`, f.name));
    });
  }
  return root.items.map((raw, i) => importItem(raw, i, folders));
}

function importItem(raw: unknown, index: number, folders: Map<string, string>): PlainItemInput {
  let where = `Item ${index + 1} of this export`;
  if (!isObject(raw)) throw new BitwardenFormatError(`${where} is not an item.`);
  if (typeof raw.name !== "string") throw new BitwardenFormatError(`${where} has no name.`);
  where = `Item ${index + 1} (“${raw.name.slice(0, 40)}”)`;
  const fields: { label: string; value: string }[] = [];
  const push = (label: string, value: string | null) => {
    if (value !== null) fields.push({ label, value: checkValue(where, value) });
  };
  switch (raw.type) {
    case 1: {
      if (!isObject(raw.login)) throw new BitwardenFormatError(`${where} is a login without login details.`);
      const login = raw.login;
      for (const key of LoginKeys) push(`login.${key}`, optionalString(where, login[key], key));
      if (login.uris !== undefined && login.uris !== null) {
        if (!Array.isArray(login.uris)) throw new BitwardenFormatError(`${where}: its URIs are not a list.`);
        for (const u of login.uris) {
          if (!isObject(u)) throw new BitwardenFormatError(`${where}: one of its URIs is not in Bitwarden's shape.`);
          push("login.uri", optionalString(where, u.uri, "uri"));
        }
      }
      break;
    }
    case 2:
      break;
    case 3: {
      if (!isObject(raw.card)) throw new BitwardenFormatError(`${where} is a card without card details.`);
      for (const key of CardKeys) push(`card.${key}`, optionalString(where, raw.card[key], key));
      break;
    }
    case 4: {
      if (!isObject(raw.identity)) throw new BitwardenFormatError(`${where} is an identity without identity details.`);
      for (const key of IdentityKeys) push(`identity.${key}`, optionalString(where, raw.identity[key], key));
      break;
    }
    default:
      throw new BitwardenFormatError(`${where} has a type this import does not know (login, secure note, card and identity are imported).`);
  }
  if (raw.fields !== undefined && raw.fields !== null) {
    if (!Array.isArray(raw.fields)) throw new BitwardenFormatError(`${where}: its custom fields are not a list.`);
    for (const f of raw.fields) {
      if (!isObject(f) || typeof f.type !== "number" || !(f.type in CustomSuffix)) throw new BitwardenFormatError(`${where}: a custom field is not in Bitwarden's shape.`);
      const name = optionalString(where, f.name, "name") ?? "";
      const value = f.type === 3 ? (f.linkedId === null || f.linkedId === undefined ? "" : String(f.linkedId)) : optionalString(where, f.value, "value") ?? "";
      push(name + CustomSuffix[f.type], value);
    }
  }
  if (fields.length > MaxFields) throw new BitwardenFormatError(`${where} has more than ${MaxFields} fields, which a vault item cannot hold.`);
  const folderId = optionalString(where, raw.folderId, "folderId");
  const folder = folderId === null ? undefined : folders.get(folderId);
  if (folderId !== null && folder === undefined) throw new BitwardenFormatError(`${where} is in a folder the export does not list.`);
  const tags = folder === undefined ? [] : [folder];
  if (tags.length > MaxTags) throw new BitwardenFormatError(`${where} has too many tags.`);
  return { title: checkValue(where, raw.name), notes: optionalString(where, raw.notes, "notes") === null ? null : checkValue(where, raw.notes as string), tags, fields };
}

/** A vault's items as an unencrypted Bitwarden JSON export (the same shape `fromBitwarden` reads). */
export function toBitwarden(items: (PlainItemInput & { id: string })[], newFolderId: () => string): string {
  const folderIds = new Map<string, string>();
  const folderOf = (name: string | undefined) => {
    if (name === undefined) return null;
    let id = folderIds.get(name);
    if (id === undefined) {
      id = newFolderId();
      folderIds.set(name, id);
    }
    return id;
  };
  const out = items.map((item) => exportItem(item, folderOf(item.tags[0])));
  return JSON.stringify({ encrypted: false, folders: [...folderIds].map(([name, id]) => ({ id, name })), items: out }, null, 2);
}

function exportItem(item: PlainItemInput & { id: string }, folderId: string | null): Json {
  const builtIn = (prefix: string) => item.fields.filter((f) => f.label.startsWith(prefix));
  const kind = builtIn("login.").length > 0 ? 1 : builtIn("card.").length > 0 ? 3 : builtIn("identity.").length > 0 ? 4 : 2;
  const prefix = kind === 1 ? "login." : kind === 3 ? "card." : kind === 4 ? "identity." : null;
  const value = (label: string) => item.fields.find((f) => f.label === label)?.value ?? null;
  const custom = item.fields.filter((f) => prefix === null || !f.label.startsWith(prefix)).map((f) => {
    for (const type of [1, 2, 3]) {
      const suffix = CustomSuffix[type]!;
      if (f.label.endsWith(suffix)) {
        const name = f.label.slice(0, -suffix.length);
        return type === 3 ? { name, value: null, type, linkedId: f.value === "" ? null : Number(f.value) } : { name, value: f.value, type, linkedId: null };
      }
    }
    return { name: f.label, value: f.value, type: 0, linkedId: null };
  });
  const result: Json = {
    id: item.id, organizationId: null, folderId, type: kind, reprompt: 0, name: item.title, notes: item.notes, favorite: false,
    fields: custom, collectionIds: null,
  };
  if (kind === 1) {
    result.login = {
      uris: item.fields.filter((f) => f.label === "login.uri").map((f) => ({ match: null, uri: f.value })),
      ...Object.fromEntries(LoginKeys.map((k) => [k, value(`login.${k}`)])),
    };
  } else if (kind === 2) {
    result.secureNote = { type: 0 };
  } else if (kind === 3) {
    result.card = Object.fromEntries(CardKeys.map((k) => [k, value(`card.${k}`)]));
  } else {
    result.identity = Object.fromEntries(IdentityKeys.map((k) => [k, value(`identity.${k}`)]));
  }
  return result;
}
