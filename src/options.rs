//! The setters of the options types: each option struct is
//! `#[non_exhaustive]` with crate-private fields, so an option can be added
//! without breaking a caller, and callers build options as
//! `LoadOptions::default().max_memo(1 << 20)`.

/// `setters! { Type { /// doc \n field: T, ... } }`: a by-value setter
/// `fn field(self, value: T) -> Self` per field, with the field's doc.
macro_rules! setters {
    ($ty:ident { $( $(#[$doc:meta])* $field:ident: $t:ty ),* $(,)? }) => {
        impl $ty {
            $(
                $(#[$doc])*
                #[must_use]
                pub fn $field(mut self, value: $t) -> Self {
                    self.$field = value;
                    self
                }
            )*
        }
    };
}

pub(crate) use setters;
