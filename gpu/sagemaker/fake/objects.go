package fake

import (
	"fmt"
	"strings"
)

// PutObject stores an object in the in-memory bucket.
func (s *Server) PutObject(key string, body []byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.objects[key] = body
}

// Object returns an object of the in-memory bucket.
func (s *Server) Object(key string) ([]byte, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, ok := s.objects[key]
	return b, ok
}

// readS3 reads an s3://bucket/key location as the container or SageMaker
// would.
func (s *Server) readS3(uri string) ([]byte, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.readS3Locked(uri)
}

// readS3Locked is readS3 with s.mu held.
func (s *Server) readS3Locked(uri string) ([]byte, error) {
	rest, ok := strings.CutPrefix(uri, "s3://")
	bucket, key, _ := strings.Cut(rest, "/")
	switch {
	case !ok || bucket == "" || key == "":
		return nil, fmt.Errorf("%q is not an s3://bucket/key location", uri)
	case s.Bucket != "" && bucket != s.Bucket:
		return nil, fmt.Errorf("NoSuchBucket: the bucket %s does not exist", bucket)
	case s.ReadObject != nil:
		return s.ReadObject(key)
	}
	if body, ok := s.objects[key]; ok {
		return body, nil
	}
	return nil, fmt.Errorf("NoSuchKey: %s does not exist", uri)
}

// writeS3 writes an object by key.
func (s *Server) writeS3(key string, body []byte) error {
	s.mu.Lock()
	write := s.WriteObject
	s.mu.Unlock()
	if write != nil {
		return write(key, body)
	}
	s.PutObject(key, body)
	return nil
}
