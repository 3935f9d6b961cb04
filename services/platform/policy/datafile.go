package policy

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
)

// The policy's data files (the adequacy registry, the working-day
// calendars, the authority directory) share one way in: an embedded
// default, a file given at start that replaces it, strict JSON (an unknown
// field is a typo, not something to ignore), and an error naming the file
// that stops startup.

// LoadDataFile parses the file at path with parse, or the embedded
// default when path is empty. what names the data in errors.
func LoadDataFile[T any](what, path string, embedded []byte, parse func([]byte) (T, error)) (T, error) {
	if path == "" {
		return parse(embedded)
	}
	data, err := os.ReadFile(path)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s: %w", what, err)
	}
	v, err := parse(data)
	if err != nil {
		var zero T
		return zero, fmt.Errorf("%s %s: %w", what, path, err)
	}
	return v, nil
}

// DecodeStrict decodes one JSON object into v, refusing unknown fields and
// anything after the object.
func DecodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("data after the top-level object")
	}
	return nil
}
