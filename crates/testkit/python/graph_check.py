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
    from antlr4 import CommonTokenStream, InputStream
    from antlr4.error.ErrorListener import ErrorListener
    from antlr4_cypher import CypherLexer, CypherParser

    class Collect(ErrorListener):
        def __init__(self):
            self.errors = []

        def syntaxError(self, recognizer, offending, line, column, msg, e):
            self.errors.append(f"{line}:{column}: {msg}")

    with open(path, encoding="utf-8") as f:
        text = f.read()
    errors = Collect()
    lexer = CypherLexer(InputStream(text))
    lexer.removeErrorListeners()
    lexer.addErrorListener(errors)
    parser = CypherParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(errors)
    tree = parser.script()
    statements = [c for c in tree.getChildren() if c.getChildCount() > 0 and
                  type(c).__name__ != "TerminalNodeImpl"]
    return {
        "errors": errors.errors,
        "statements": len(statements),
        "kinds": [type(s.getChild(0)).__name__ if s.getChildCount() else ""
                  for s in statements],
    }


def main():
    kind, path = sys.argv[1], sys.argv[2]
    result = {"graphml": graphml, "cypher": cypher}[kind](path)
    json.dump(result, sys.stdout, ensure_ascii=False)


if __name__ == "__main__":
    main()
