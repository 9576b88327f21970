//! Errors: the code, message and request id of an XML error body, and its modeled fields.

use super::*;

// ---------------------------------------------------------------------------
// Errors.

#[derive(Default)]
pub(super) struct ErrorScan {
    pub(super) code: Option<String>,
    pub(super) message: Option<String>,
    pub(super) request_id: Option<String>,
}

/// Reads `Code`, `Message` and `RequestId` from an error document.
pub(super) fn scan_error(body: &[u8]) -> Result<ErrorScan, String> {
    let mut reader = Reader::from_reader(body);
    reader.config_mut().check_comments = false;
    ScanParser { reader }.scan()
}

pub(super) struct ScanParser<'a> {
    reader: Reader<&'a [u8]>,
}

impl<'a> ScanParser<'a> {
    pub(super) fn next(&mut self) -> Result<Event<'a>, String> {
        self.reader
            .read_event()
            .map_err(|e| xml_err(e, self.reader.error_position()))
    }

    pub(super) fn text(&mut self) -> Result<String, String> {
        let mut out = String::new();
        let mut depth = 0usize;
        loop {
            match self.next()? {
                Event::Text(t) if depth == 0 => out.push_str(
                    &t.unescape()
                        .map_err(|e| xml_err(e, self.reader.buffer_position()))?,
                ),
                Event::CData(c) if depth == 0 => {
                    out.push_str(&String::from_utf8_lossy(&c.into_inner()))
                }
                Event::Start(_) => depth += 1,
                Event::End(_) => {
                    if depth == 0 {
                        return Ok(out);
                    }
                    depth -= 1;
                }
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => {}
            }
        }
    }

    pub(super) fn skip(&mut self, e: &BytesStart<'a>) -> Result<(), String> {
        self.reader
            .read_to_end(e.name())
            .map(|_| ())
            .map_err(|e| xml_err(e, self.reader.error_position()))
    }

    pub(super) fn scan(mut self) -> Result<ErrorScan, String> {
        let mut out = ErrorScan::default();
        let root = loop {
            match self.next()? {
                Event::Start(e) => break e,
                Event::Empty(_) | Event::Eof | Event::End(_) => return Ok(out),
                _ => {}
            }
        };
        if local(root.name().as_ref()) == b"Error" {
            self.error_children(&mut out)?;
            return Ok(out);
        }
        // Children of the root: <Error>, <Errors><Error>, <RequestId>/<RequestID>.
        loop {
            match self.next()? {
                Event::Start(e) => match local(e.name().as_ref()) {
                    b"Error" => self.error_children(&mut out)?,
                    b"Errors" => loop {
                        match self.next()? {
                            Event::Start(e) if local(e.name().as_ref()) == b"Error" => {
                                if out.code.is_none() {
                                    self.error_children(&mut out)?;
                                } else {
                                    self.skip(&e)?;
                                }
                            }
                            Event::Start(e) => self.skip(&e)?,
                            Event::End(_) => break,
                            Event::Eof => return Ok(out),
                            _ => {}
                        }
                    },
                    b"RequestId" | b"RequestID" => out.request_id = Some(self.text()?),
                    _ => self.skip(&e)?,
                },
                Event::End(_) | Event::Eof => return Ok(out),
                _ => {}
            }
        }
    }

    /// The children of an `<Error>` element (its start already read).
    pub(super) fn error_children(&mut self, out: &mut ErrorScan) -> Result<(), String> {
        loop {
            match self.next()? {
                Event::Start(e) => match local(e.name().as_ref()) {
                    b"Code" => out.code = Some(self.text()?),
                    b"Message" => out.message = Some(self.text()?),
                    b"RequestId" | b"RequestID" => out.request_id = Some(self.text()?),
                    _ => self.skip(&e)?,
                },
                Event::Empty(e) => match local(e.name().as_ref()) {
                    b"Code" => out.code = Some(String::new()),
                    b"Message" => out.message = Some(String::new()),
                    _ => {}
                },
                Event::End(_) => return Ok(()),
                Event::Eof => return Err("invalid XML: unexpected end of document".into()),
                _ => {}
            }
        }
    }
}

/// The members of error shape `id` from the `<Error>` element of an error document
/// (the root itself when it is `<Error>`, else `<Error>` or `<Errors><Error>` under the
/// root, else the root).
pub(super) fn error_fields(
    model: &ServiceModel,
    id: ShapeId,
    body: &[u8],
) -> Result<Map<String, Value>, String> {
    if model.shape(id).kind != ShapeType::Structure {
        return Ok(Map::new());
    }
    let plan = Plan::new(model, id);
    let mut p = Parser::new(model, &plan, body);
    let Some((root, empty)) = p.root()? else {
        return Ok(Map::new());
    };
    if empty || local(root.name().as_ref()) == b"Error" {
        return p.structure(id, &root, empty);
    }
    // Look for <Error> or <Errors><Error> among the root's children; failing that,
    // parse the root's children (botocore's fallback) with a fresh reader.
    loop {
        match p.next()? {
            Event::Start(e) => match local(e.name().as_ref()) {
                b"Error" => return p.structure(id, &e, false),
                b"Errors" => {
                    if let Some((err, empty)) = p.find_child(b"Error")? {
                        return p.structure(id, &err, empty);
                    }
                }
                _ => p.skip(&e)?,
            },
            Event::Empty(e) if local(e.name().as_ref()) == b"Error" => {
                return Ok(Map::new());
            }
            Event::End(_) | Event::Eof => break,
            _ => {}
        }
    }
    let mut p = Parser::new(model, &plan, body);
    match p.root()? {
        Some((root, empty)) => p.structure(id, &root, empty),
        None => Ok(Map::new()),
    }
}
