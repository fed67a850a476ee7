"""`felixpy` console script: run the agent in the foreground, configured as Felix is:
FelixConfiguration resources in etcd, overridden by FELIX_* environment variables
(FELIX_DATASTORETYPE=etcdv3, FELIX_ETCDENDPOINTS, FELIX_ETCDCAFILE, FELIX_ETCDCERTFILE,
FELIX_ETCDKEYFILE, FELIX_FELIXHOSTNAME (else NODENAME, else the hostname),
FELIX_LOGSEVERITYSCREEN, FELIX_IPTABLESBACKEND, FELIX_HEALTHENABLED, FELIX_HEALTHPORT,
FELIX_PROMETHEUSMETRICSENABLED, FELIX_PROMETHEUSMETRICSPORT, ...)."""
import argparse
import sys


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="felixpy", description=__doc__.split(": ", 1)[1],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.parse_args(argv)
    from felixpy.daemon import run
    return run()


if __name__ == "__main__":
    sys.exit(main())
