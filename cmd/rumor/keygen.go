package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/spf13/cobra"

	"github.com/rumor-sync/rumor/gossip/mesh"
)

func newKeygenCmd() *cobra.Command {
	var out string
	var force bool
	cmd := &cobra.Command{
		Use:   "keygen --out FILE",
		Short: "Write a new mesh secret (pass it to every node with --secret)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if out == "" {
				return errors.New("--out FILE is required")
			}
			secret, err := mesh.GenerateSecret()
			if err != nil {
				return err
			}
			flags := os.O_CREATE | os.O_WRONLY | os.O_EXCL
			if force {
				flags = os.O_CREATE | os.O_WRONLY | os.O_TRUNC
			}
			f, err := os.OpenFile(out, flags, 0o600)
			if errors.Is(err, fs.ErrExist) {
				return fmt.Errorf("%s exists; use --force to overwrite it", out)
			}
			if err != nil {
				return err
			}
			if _, err := f.Write(mesh.EncodeSecret(secret)); err != nil {
				f.Close()
				return err
			}
			if err := f.Close(); err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote mesh secret to %s (mode 0600)\n", out)
			return nil
		},
	}
	cmd.Flags().StringVar(&out, "out", "", "file to write the secret to")
	cmd.Flags().BoolVar(&force, "force", false, "overwrite an existing file")
	return cmd
}
