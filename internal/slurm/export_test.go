package slurm

import "context"

// DiscoveredJobCompLog is the job-completion log States reads for c, as discovered from
// `scontrol show config` when c.JobCompLog is "".
func DiscoveredJobCompLog(ctx context.Context, c *Client) (string, error) {
	cfg, err := c.config(ctx)
	return cfg.jobCompLog, err
}
