// Command peerutil is a small helper for _tools/with-peers.sh: it hands out free
// 127.0.0.1 TCP ports and writes a self-signed TLS certificate for the SMTP
// emulator. It is a dev tool only and is never imported by the product.
//
// Usage:
//
//	peerutil ports N        print N distinct free ports on 127.0.0.1, one per line
//	peerutil cert DIR       write DIR/cert.pem and DIR/key.pem (127.0.0.1, localhost)
//	peerutil dial PORT      exit 0 if 127.0.0.1:PORT accepts a TCP connection within 1 s
//	peerutil sum FILE...    print a SHA-256 of the files' contents (a build stamp)
package main

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "peerutil:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) != 2 {
		if len(args) > 2 && args[0] == "sum" {
			return sum(args[1:])
		}
		return errors.New("usage: peerutil ports N | peerutil cert DIR | peerutil dial PORT | peerutil sum FILE...")
	}
	switch args[0] {
	case "ports":
		n, err := strconv.Atoi(args[1])
		if err != nil || n < 1 || n > 64 {
			return fmt.Errorf("bad port count %q", args[1])
		}
		return ports(n)
	case "cert":
		return cert(args[1])
	case "dial":
		c, err := net.DialTimeout("tcp", net.JoinHostPort("127.0.0.1", args[1]), time.Second)
		if err != nil {
			return err
		}
		return c.Close()
	case "sum":
		return sum(args[1:])
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
}

// ports holds all listeners open until every port is chosen, so the ports are
// distinct; they are released before printing, and the caller binds them soon after.
func ports(n int) error {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			_ = l.Close()
		}
	}()
	for range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fmt.Errorf("listen on 127.0.0.1:0: %w", err)
		}
		ls = append(ls, l)
	}
	for _, l := range ls {
		fmt.Println(l.Addr().(*net.TCPAddr).Port)
	}
	return nil
}

// cert writes a self-signed CA-capable certificate so a client can trust it
// directly as its only root.
func cert(dir string) error {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return fmt.Errorf("generate key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return fmt.Errorf("serial: %w", err)
	}
	now := time.Now()
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "argo-notify test peer"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(7 * 24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
		DNSNames:              []string{"localhost"},
		IPAddresses:           []net.IP{net.IPv4(127, 0, 0, 1)},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return fmt.Errorf("create certificate: %w", err)
	}
	pk, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fmt.Errorf("marshal key: %w", err)
	}
	if err := writePEM(filepath.Join(dir, "cert.pem"), "CERTIFICATE", der, 0o644); err != nil {
		return err
	}
	return writePEM(filepath.Join(dir, "key.pem"), "PRIVATE KEY", pk, 0o600)
}

func writePEM(path, typ string, b []byte, mode os.FileMode) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, mode)
	if err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := pem.Encode(f, &pem.Block{Type: typ, Bytes: b}); err != nil {
		_ = f.Close()
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// sum prints one SHA-256 over the contents of files, in order: the stamp
// with-peers.sh compares to decide whether a tool needs building again
// (portable where sha256sum is not installed).
func sum(files []string) error {
	h := sha256.New()
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return err
		}
		h.Write(b)
	}
	fmt.Printf("%x\n", h.Sum(nil))
	return nil
}
