//! Model recipes: which mechanisms go where, with which parameters.

pub mod hay2011;
