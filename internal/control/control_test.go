package control

import (
	"bytes"
	"errors"
	"strings"
	"testing"
)

func TestReadRequestValidates(t *testing.T) {
	good := `{"proto":1,"data":"aGk=","eof":true,"until_ms":5000}` + "\n"
	req, err := ReadRequest(strings.NewReader(good))
	if err != nil || string(req.Data) != "hi" || !req.EOF || req.UntilMS != 5000 {
		t.Fatalf("%+v %v", req, err)
	}
	for name, in := range map[string]string{
		"not json":       "hello\n",
		"unknown field":  `{"proto":1,"until_ms":1,"path":"/etc"}` + "\n",
		"wrong proto":    `{"proto":2,"until_ms":1}` + "\n",
		"negative until": `{"proto":1,"until_ms":-1}` + "\n",
		"until too long": `{"proto":1,"until_ms":3600001}` + "\n",
		"two values":     `{"proto":1,"until_ms":1} {}` + "\n",
		"not base64":     `{"proto":1,"data":"!!","until_ms":1}` + "\n",
		"no newline":     `{"proto":1,"until_ms":1}`,
		"empty":          "",
	} {
		if _, err := ReadRequest(strings.NewReader(in)); err == nil {
			t.Errorf("%s: accepted %q", name, in)
		}
	}
}

func TestReadRequestBounds(t *testing.T) {
	// The largest input fits one frame; a line past the bound is refused
	// without reading it all.
	var buf bytes.Buffer
	if err := writeFrame(&buf, &Request{Proto: Proto, Data: bytes.Repeat([]byte{0xff}, MaxData), UntilMS: 1}); err != nil {
		t.Fatal(err)
	}
	req, err := ReadRequest(&buf)
	if err != nil || len(req.Data) != MaxData {
		t.Fatalf("1 MiB: %v", err)
	}
	buf.Reset()
	writeFrame(&buf, &Request{Proto: Proto, Data: bytes.Repeat([]byte{0xff}, MaxData+1), UntilMS: 1})
	if _, err := ReadRequest(&buf); err == nil {
		t.Fatal("1 MiB + 1 accepted")
	}
	endless := strings.NewReader(strings.Repeat("a", 10*maxFrame))
	if _, err := ReadRequest(endless); !errors.Is(err, ErrFrameTooLarge) {
		t.Fatalf("endless line: %v", err)
	}
	if endless.Len() < 8*maxFrame {
		t.Fatalf("read %d bytes of an oversized frame", 10*maxFrame-endless.Len())
	}
}
