//! Harvesters (work in progress).
