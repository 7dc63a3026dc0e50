//! The stack of enclosing headings that gives every block its heading path, shared by the
//! formats that have headings (HTML, Markdown, DOCX).

/// Enclosing headings with their levels (1 = outermost), outermost first.
#[derive(Debug, Clone, Default)]
pub(crate) struct HeadingStack {
    entries: Vec<(u8, String)>,
}

impl HeadingStack {
    pub(crate) fn new(enclosing: Vec<(u8, String)>) -> Self {
        Self { entries: enclosing }
    }

    /// A heading at `level` closes every open heading at the same or a deeper level.
    pub(crate) fn enter(&mut self, level: u8, title: String) {
        self.entries.retain(|(enclosing, _)| *enclosing < level);
        self.entries.push((level, title));
    }

    /// The titles of the open headings, outermost first.
    pub(crate) fn path(&self) -> Vec<String> {
        self.entries
            .iter()
            .map(|(_, title)| title.clone())
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_heading_closes_siblings_and_deeper_headings() {
        let mut stack = HeadingStack::default();
        stack.enter(1, "Guide".into());
        stack.enter(2, "Setup".into());
        stack.enter(3, "Linux".into());
        assert_eq!(stack.path(), ["Guide", "Setup", "Linux"]);
        stack.enter(2, "Usage".into());
        assert_eq!(stack.path(), ["Guide", "Usage"]);
        stack.enter(1, "Appendix".into());
        assert_eq!(stack.path(), ["Appendix"]);
    }
}
