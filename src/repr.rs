//! Python repr. STUB: being written.
impl std::fmt::Display for crate::ValueRef<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "<{}>", self.type_name())
    }
}
/// Python float repr (stub).
pub fn repr_float(f: f64) -> String {
    format!("{f:?}")
}
