//! Reading one QuickFIX-format XML dictionary: `<fields>`, `<header>`, `<trailer>`,
//! `<messages>` and `<components>`, with components flattened into the layouts that use them.

use std::collections::HashMap;

use fixgate_core::dictionary::{FieldType, LayoutBuilder};
use roxmltree::{Document, Node};

/// Components nest; deeper than this is a cycle.
const MAX_DEPTH: usize = 32;

/// What one XML file says, by tag number.
#[derive(Debug, Default)]
pub(crate) struct Parsed {
    /// `FIX.4.4`, `FIXT.1.1`, `FIX.5.0SP2`…
    pub(crate) version: String,
    pub(crate) fields: Vec<FieldSpec>,
    pub(crate) header: LayoutBuilder,
    pub(crate) trailer: LayoutBuilder,
    pub(crate) messages: Vec<(Vec<u8>, LayoutBuilder)>,
}

/// One `<field>` of `<fields>`.
#[derive(Debug)]
pub(crate) struct FieldSpec {
    pub(crate) tag: u32,
    pub(crate) name: String,
    pub(crate) field_type: FieldType,
    pub(crate) values: Vec<Vec<u8>>,
}

/// A problem in the XML: the line, the element and the reason.
#[derive(Debug)]
pub(crate) struct XmlError {
    pub(crate) line: u32,
    pub(crate) element: String,
    pub(crate) reason: String,
}

type Result<T> = std::result::Result<T, XmlError>;

/// Parses the text of one dictionary.
pub(crate) fn parse(text: &str) -> Result<Parsed> {
    let doc = Document::parse(text).map_err(|e| XmlError {
        line: e.pos().row,
        element: "document".into(),
        reason: e.to_string(),
    })?;
    let root = doc.root_element();
    if !root.has_tag_name("fix") {
        return Err(error(root, "the root element must be <fix>"));
    }
    let reader = Reader::new(root)?;
    let mut parsed = Parsed {
        version: version(root)?,
        ..Parsed::default()
    };
    // FIX 4.0 and 4.1 called strings CHAR (SenderCompID, for one); QuickFIX reads them so.
    let legacy = matches!(parsed.version.as_str(), "FIX.4.0" | "FIX.4.1");
    for (tag, name, node) in &reader.fields {
        let field_type = match attribute(*node, "type")? {
            "CHAR" if legacy => FieldType::String,
            other => FieldType::from_xml(other),
        };
        parsed.fields.push(FieldSpec {
            tag: *tag,
            name: name.clone(),
            field_type,
            values: enumeration(*node)?,
        });
    }
    for section in root.children().filter(Node::is_element) {
        match section.tag_name().name() {
            "header" => parsed.header = reader.layout(section, true, 0)?,
            "trailer" => parsed.trailer = reader.layout(section, true, 0)?,
            "messages" => {
                for message in elements(section, "message")? {
                    let msg_type = attribute(message, "msgtype")?.as_bytes().to_vec();
                    parsed
                        .messages
                        .push((msg_type, reader.layout(message, true, 0)?));
                }
            }
            "fields" | "components" => {}
            other => return Err(error(section, &format!("unexpected section <{other}>"))),
        }
    }
    Ok(parsed)
}

/// `type`, `major`, `minor` and `servicepack` of `<fix>` as a version name. Without a `type`
/// it is FIX, as QuickFIX C++ reads QuickFIX/J's dictionaries, which have none.
fn version(root: Node<'_, '_>) -> Result<String> {
    let kind = root.attribute("type").unwrap_or("FIX");
    if kind != "FIX" && kind != "FIXT" {
        return Err(error(
            root,
            &format!("type '{kind}' is neither FIX nor FIXT"),
        ));
    }
    let major = attribute(root, "major")?;
    let minor = attribute(root, "minor")?;
    let mut version = format!("{kind}.{major}.{minor}");
    match root.attribute("servicepack") {
        None | Some("0") | Some("") => {}
        Some(sp) => {
            version.push_str("SP");
            version.push_str(sp);
        }
    }
    Ok(version)
}

/// The field table and the components, by name.
struct Reader<'a, 'input> {
    fields: Vec<(u32, String, Node<'a, 'input>)>,
    tags: HashMap<&'a str, u32>,
    components: HashMap<&'a str, Node<'a, 'input>>,
}

impl<'a, 'input> Reader<'a, 'input> {
    fn new(root: Node<'a, 'input>) -> Result<Self> {
        let mut reader = Self {
            fields: Vec::new(),
            tags: HashMap::new(),
            components: HashMap::new(),
        };
        let mut numbers = HashMap::new();
        for section in root.children().filter(|n| n.has_tag_name("fields")) {
            for field in elements(section, "field")? {
                let name = attribute(field, "name")?;
                let number = attribute(field, "number")?;
                let tag = number
                    .parse::<u32>()
                    .ok()
                    .filter(|&t| t > 0)
                    .ok_or_else(|| error(field, &format!("number '{number}' is not a tag")))?;
                if reader.tags.insert(name, tag).is_some() {
                    return Err(error(field, &format!("field '{name}' is defined twice")));
                }
                if let Some(other) = numbers.insert(tag, name) {
                    return Err(error(field, &format!("tag {tag} is also field '{other}'")));
                }
                reader.fields.push((tag, name.to_owned(), field));
            }
        }
        for section in root.children().filter(|n| n.has_tag_name("components")) {
            for component in elements(section, "component")? {
                let name = attribute(component, "name")?;
                if reader.components.insert(name, component).is_some() {
                    return Err(error(
                        component,
                        &format!("component '{name}' is defined twice"),
                    ));
                }
            }
        }
        Ok(reader)
    }

    /// The layout of the fields, groups and components under `node`. A member is required
    /// when it says so and `required` holds (the components around it are required).
    fn layout(&self, node: Node<'_, '_>, required: bool, depth: usize) -> Result<LayoutBuilder> {
        let mut layout = LayoutBuilder::new();
        self.add_members(node, required, depth, &mut layout)?;
        Ok(layout)
    }

    fn add_members(
        &self,
        node: Node<'_, '_>,
        required: bool,
        depth: usize,
        layout: &mut LayoutBuilder,
    ) -> Result<()> {
        if depth > MAX_DEPTH {
            return Err(error(node, "components nest too deep (a cycle?)"));
        }
        for child in node.children().filter(Node::is_element) {
            let name = attribute(child, "name")?;
            let member_required = required && child.attribute("required") == Some("Y");
            match child.tag_name().name() {
                "field" => {
                    layout.field(self.tag(child, name)?, member_required);
                }
                "group" => {
                    let entry = self.layout(child, true, depth + 1)?;
                    if entry.is_empty() {
                        return Err(error(child, "a group needs at least one field"));
                    }
                    layout.group(self.tag(child, name)?, member_required, entry);
                }
                "component" => {
                    let component = self.components.get(name).ok_or_else(|| {
                        error(child, &format!("component '{name}' is not defined"))
                    })?;
                    self.add_members(*component, member_required, depth + 1, layout)?;
                }
                other => return Err(error(child, &format!("unexpected element <{other}>"))),
            }
        }
        Ok(())
    }

    fn tag(&self, node: Node<'_, '_>, name: &str) -> Result<u32> {
        self.tags
            .get(name)
            .copied()
            .ok_or_else(|| error(node, &format!("field '{name}' is not defined in <fields>")))
    }
}

/// The `enum` values of a `<field>`.
fn enumeration(field: Node<'_, '_>) -> Result<Vec<Vec<u8>>> {
    elements(field, "value")?
        .map(|value| attribute(value, "enum").map(|v| v.as_bytes().to_vec()))
        .collect()
}

/// The child elements of `parent`, which must all be `<name>`.
fn elements<'a, 'input>(
    parent: Node<'a, 'input>,
    name: &'static str,
) -> Result<impl Iterator<Item = Node<'a, 'input>>> {
    if let Some(other) = parent
        .children()
        .find(|n| n.is_element() && !n.has_tag_name(name))
    {
        return Err(error(
            other,
            &format!("expected <{name}>, found <{}>", other.tag_name().name()),
        ));
    }
    Ok(parent.children().filter(Node::is_element))
}

fn attribute<'a>(node: Node<'a, '_>, name: &str) -> Result<&'a str> {
    node.attribute(name)
        .ok_or_else(|| error(node, &format!("attribute '{name}' is missing")))
}

/// An error at `node`, which is named by its tag and its `name` (or `number`) attribute.
fn error(node: Node<'_, '_>, reason: &str) -> XmlError {
    let mut element = format!("<{}", node.tag_name().name());
    for key in ["name", "number", "msgtype"] {
        if let Some(value) = node.attribute(key) {
            element.push_str(&format!(" {key}='{value}'"));
            break;
        }
    }
    element.push('>');
    XmlError {
        line: node.document().text_pos_at(node.range().start).row,
        element,
        reason: reason.to_owned(),
    }
}
