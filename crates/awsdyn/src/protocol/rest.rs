//! HTTP bindings shared by `rest-json` and `rest-xml`: URI labels (greedy too), query
//! strings, headers (incl. `headers` prefix maps), status code, and payload members.
