package cli

//go:generate go run ./gendoc -o ../../docs/cli.md
