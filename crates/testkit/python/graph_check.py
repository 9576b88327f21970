"""Reads a graph file written by `census export graph` with real third-party readers and
prints what they saw as JSON, for crates/census/tests/export_graph.rs to assert on.

    graph_check.py graphml FILE   networkx.read_graphml: node and edge counts, node and
                                  edge attributes by id
    graph_check.py cypher FILE    antlr4-cypher (an ANTLR-generated Cypher grammar): the
                                  script's statements parsed, syntax errors listed

Not for writing graphs, and not a Cypher engine: the Cypher check is syntax only.
"""

import json
import sys


def graphml(path):
    import networkx

    g = networkx.read_graphml(path)
    return {
        "directed": g.is_directed(),
        "nodes": {n: dict(attrs) for n, attrs in g.nodes(data=True)},
        "edges": [
            {"source": a, "target": b, **attrs} for a, b, attrs in g.edges(data=True)
        ],
    }


def cypher(path):
    """The script parsed by the grammar: syntax errors, and the rows of each UNWIND
    (map literals read from the parse tree into Python values). The grammar knows
    openCypher's queries, not Neo4j's schema commands: the leading CREATE CONSTRAINT
    and CREATE INDEX statements are returned as text (`schema`) and the rest parsed."""
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4_cypher import CypherLexer, CypherParser

    class Collect(ErrorListener):
        def __init__(self):
            self.errors = []

        def syntaxError(self, recognizer, offending, line, column, msg, e):
            self.errors.append(f"{line}:{column}: {msg}")

    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")
    schema = [l for l in lines if l.startswith(("CREATE CONSTRAINT ", "CREATE INDEX "))]
    # Blank lines keep the line numbers of errors.
    text = "\n".join("" if l in schema else l for l in lines)
    # The grammar's script is one query: the script is cut at the lexer's `;` tokens
    # (so never inside a string) and each statement parsed on its own.
    lexer = CypherLexer(InputStream(text))
    lexer.removeErrorListeners()
    errors = Collect()
    lexer.addErrorListener(errors)
    cuts = [t.stop + 1 for t in lexer.getAllTokens() if t.type == CypherParser.SEMI]
    queries, unwinds, begin = [], [], 0
    for end in cuts + [len(text)]:
        piece = text[begin:end]
        first_line = text.count("\n", 0, begin)
        begin = end
        if not piece.strip(" \n;") or all(
                l.startswith("//") or not l.strip() for l in piece.strip(" \n;").split("\n")):
            continue
        piece_errors = Collect()
        plexer = CypherLexer(InputStream(piece))
        plexer.removeErrorListeners()
        plexer.addErrorListener(piece_errors)
        parser = CypherParser(CommonTokenStream(plexer))
        parser.removeErrorListeners()
        parser.addErrorListener(piece_errors)
        tree = parser.script()
        for e in piece_errors.errors:
            line, rest = e.split(":", 1)
            errors.errors.append(f"{int(line) + first_line}:{rest}")
        q = tree.query()
        queries.append(q)
        for u in find(q, CypherParser.UnwindStContext):
            lists = find(u, CypherParser.ListLitContext)
            rows = value(lists[0]) if lists else None
            if rows is not None:
                unwinds.append({"text": q.getText()[-400:], "rows": rows})
    return {"errors": errors.errors, "schema": schema, "queries": len(queries),
            "unwinds": unwinds}


def find(ctx, cls):
    """The first contexts of class `cls` under `ctx`, not looking inside those."""
    out = []
    for c in ctx.getChildren() if hasattr(ctx, "getChildren") else []:
        if isinstance(c, cls):
            out.append(c)
        else:
            out.extend(find(c, cls))
    return out


def value(ctx):
    """The Python value of a literal's parse tree: strings, maps, lists, null."""
    from antlr4_cypher import CypherParser

    while True:
        # A one-character string is the grammar's charLit.
        if isinstance(ctx, (CypherParser.StringLitContext, CypherParser.CharLitContext)):
            return unescape(ctx.getText())
        if isinstance(ctx, CypherParser.MapLitContext):
            return {p.name().getText(): value(p.expression())
                    for p in ctx.getChildren()
                    if isinstance(p, CypherParser.MapPairContext)}
        if isinstance(ctx, CypherParser.ListLitContext):
            chain = ctx.expressionChain()
            if chain is None:
                return []
            return [value(e) for e in chain.getChildren()
                    if isinstance(e, CypherParser.ExpressionContext)]
        if ctx.getChildCount() != 1:
            text = ctx.getText()
            if text.lower() == "null":
                return None
            raise ValueError(f"not a literal: {text[:80]}")
        ctx = ctx.getChild(0)
        if not hasattr(ctx, "getChildCount"):
            text = ctx.getText()
            if text.lower() == "null":
                return None
            raise ValueError(f"not a literal: {text[:80]}")


def unescape(token):
    """A Cypher string literal's value (quotes off, escapes read)."""
    body, out, i = token[1:-1], [], 0
    simple = {"\\": "\\", "'": "'", '"': '"', "n": "\n", "r": "\r", "t": "\t",
              "b": "\b", "f": "\f"}
    while i < len(body):
        c = body[i]
        if c == "\\":
            n = body[i + 1]
            if n in ("u", "U"):
                out.append(chr(int(body[i + 2:i + 6], 16)))
                i += 6
                continue
            out.append(simple[n])
            i += 2
            continue
        out.append(c)
        i += 1
    return "".join(out)


def main():
    kind, path = sys.argv[1], sys.argv[2]
    result = {"graphml": graphml, "cypher": cypher}[kind](path)
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
