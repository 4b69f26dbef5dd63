//! The Vislab desktop program: shell, labs and renderers.
