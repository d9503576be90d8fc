package io.sourcemesh.proxy.rbac;

import io.sourcemesh.proxy.address.CidrRange;
import io.sourcemesh.proxy.matcher.HeaderMatch;
import io.sourcemesh.proxy.matcher.StringMatch;
import java.util.List;

/** Envoy's {@code config.rbac.v3.Permission}: what is being asked for. */
public sealed interface Permission {

    boolean matches(RbacRequest r);

    record And(List<Permission> rules) implements Permission {
        public And {
            rules = List.copyOf(rules);
        }

        @Override
        public boolean matches(RbacRequest r) {
            return rules.stream().allMatch(p -> p.matches(r));
        }
    }

    record Or(List<Permission> rules) implements Permission {
        public Or {
            rules = List.copyOf(rules);
        }

        @Override
        public boolean matches(RbacRequest r) {
            return rules.stream().anyMatch(p -> p.matches(r));
        }
    }

    record Not(Permission rule) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return !rule.matches(r);
        }
    }

    record Any() implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return true;
        }
    }

    record Header(HeaderMatch header) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return header.matches(r.header(header.name()));
        }
    }

    record UrlPath(StringMatch path) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return Paths.matches(path, r);
        }
    }

    record DestinationIp(CidrRange range) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return range.contains(r.localAddress().getAddress());
        }
    }

    record DestinationPort(int port) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return r.localAddress().getPort() == port;
        }
    }

    /** Envoy's Int32Range: start inclusive, end exclusive. */
    record DestinationPortRange(int start, int end) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            int port = r.localAddress().getPort();
            return port >= start && port < end;
        }
    }

    record RequestedServerName(StringMatch name) implements Permission {
        @Override
        public boolean matches(RbacRequest r) {
            return name.matches(r.requestedServerName());
        }
    }
}
