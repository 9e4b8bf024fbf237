// Azure ABAC role-assignment conditions (conditionVersion 2.0), the subset the portal writes; anything else denies.
//
// Grammar supported (case-sensitive keywords as Azure writes them; `&&`/`||` are Azure's aliases of AND/OR):
//   expr   := and (("OR" | "||") and)*
//   and    := unary (("AND" | "&&") unary)*
//   unary  := "!" unary | "(" expr ")" | atom
//   atom   := ActionMatches{'<action>'} | @Resource[<attribute>] StringEquals '<value>'
// Attributes: Microsoft.Storage/storageAccounts:name and …/blobServices/containers:name.

/** What a data-plane request offers to a condition. */
export interface ConditionRequest {
  action: string;
  accountName: string;
  containerName?: string;
}

type Node =
  | { kind: "or" | "and"; left: Node; right: Node }
  | { kind: "not"; inner: Node }
  | { kind: "action"; action: string }
  | { kind: "equals"; attribute: Attribute; value: string };

const ATTRIBUTES = {
  "Microsoft.Storage/storageAccounts:name": "accountName",
  "Microsoft.Storage/storageAccounts/blobServices/containers:name": "containerName",
} as const;
type Attribute = (typeof ATTRIBUTES)[keyof typeof ATTRIBUTES];

type Token = { t: "(" | ")" | "!" | "and" | "or" } | { t: "action"; value: string } | { t: "equals"; attribute: Attribute; value: string };

const ATOM_ACTION = /^ActionMatches\{'([^']*)'\}/;
const ATOM_EQUALS = /^@Resource\[([^\]]+)\]\s+StringEquals\s+'([^']*)'/;

function tokenize(text: string): Token[] | undefined {
  const tokens: Token[] = [];
  let rest = text.trim();
  while (rest.length) {
    let m: RegExpExecArray | null;
    if (rest[0] === "(" || rest[0] === ")") {
      tokens.push({ t: rest[0] });
      rest = rest.slice(1);
    } else if (rest.startsWith("&&") || rest.startsWith("||")) {
      tokens.push({ t: rest.startsWith("&&") ? "and" : "or" });
      rest = rest.slice(2);
    } else if (rest[0] === "!") {
      tokens.push({ t: "!" });
      rest = rest.slice(1);
    } else if ((m = /^(AND|OR)(?![A-Za-z0-9_])/.exec(rest))) {
      tokens.push({ t: m[1] === "AND" ? "and" : "or" });
      rest = rest.slice(m[0].length);
    } else if ((m = ATOM_ACTION.exec(rest))) {
      tokens.push({ t: "action", value: m[1] ?? "" });
      rest = rest.slice(m[0].length);
    } else if ((m = ATOM_EQUALS.exec(rest))) {
      const attribute = ATTRIBUTES[(m[1] ?? "") as keyof typeof ATTRIBUTES] as Attribute | undefined;
      if (!attribute) return undefined;
      tokens.push({ t: "equals", attribute, value: m[2] ?? "" });
      rest = rest.slice(m[0].length);
    } else {
      return undefined;
    }
    rest = rest.trimStart();
  }
  return tokens;
}

/** Parse a condition; undefined when it uses anything outside the supported subset. */
export function parseCondition(text: string): Node | undefined {
  const parsed = tokenize(text);
  if (!parsed?.length) return undefined;
  const tokens: Token[] = parsed;
  let i = 0;
  const peek = () => tokens[i];
  function expr(): Node | undefined {
    let left = and();
    while (left && peek()?.t === "or") {
      i++;
      const right = and();
      if (!right) return undefined;
      left = { kind: "or", left, right };
    }
    return left;
  }
  function and(): Node | undefined {
    let left = unary();
    while (left && peek()?.t === "and") {
      i++;
      const right = unary();
      if (!right) return undefined;
      left = { kind: "and", left, right };
    }
    return left;
  }
  function unary(): Node | undefined {
    const tok = tokens[i++];
    if (!tok) return undefined;
    if (tok.t === "!") {
      const inner = unary();
      return inner && { kind: "not", inner };
    }
    if (tok.t === "(") {
      const inner = expr();
      if (!inner || tokens[i++]?.t !== ")") return undefined;
      return inner;
    }
    if (tok.t === "action") return { kind: "action", action: tok.value };
    if (tok.t === "equals") return { kind: "equals", attribute: tok.attribute, value: tok.value };
    return undefined;
  }
  const node = expr();
  return node && i === tokens.length ? node : undefined;
}

function evaluate(node: Node, req: ConditionRequest): boolean {
  switch (node.kind) {
    case "or":
      return evaluate(node.left, req) || evaluate(node.right, req);
    case "and":
      return evaluate(node.left, req) && evaluate(node.right, req);
    case "not":
      return !evaluate(node.inner, req);
    case "action":
      // ActionMatches compares case-insensitively and allows a trailing wildcard, as Azure documents.
      return node.action.endsWith("*")
        ? req.action.toLowerCase().startsWith(node.action.slice(0, -1).toLowerCase())
        : req.action.toLowerCase() === node.action.toLowerCase();
    case "equals": {
      const actual = req[node.attribute];
      // StringEquals is case-sensitive in Azure; a missing attribute never equals.
      return actual !== undefined && actual === node.value;
    }
  }
}

/** Whether a role assignment's condition lets this request through; an unparseable condition never does. */
export function conditionAllows(condition: string | null | undefined, req: ConditionRequest): boolean {
  if (condition === null || condition === undefined || condition.trim() === "") return true;
  const node = parseCondition(condition);
  return node ? evaluate(node, req) : false;
}
