package fieldsdoc

//go:generate go run ./gen -o ../../docs/fields.md
