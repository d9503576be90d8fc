package io.sourcemesh.cluster.netns;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/** The generated batches, against golden files reviewed line by line with Istio's capture testdata. */
class IstioIptablesTest {
    @Test
    void redirectMatchesItsGoldenFile() {
        assertEquals(Golden.read("istio-redirect.rules"), IstioIptables.redirect().restoreBatch());
        assertEquals(List.of(), IstioIptables.redirect().routeCommands());
    }

    @Test
    void tproxyMatchesItsGoldenFile() {
        assertEquals(Golden.read("istio-tproxy.rules"), IstioIptables.tproxy().restoreBatch());
        assertEquals(List.of("rule add fwmark 1337 lookup 133", "route add local default dev lo table 133"),
                IstioIptables.tproxy().routeCommands());
    }

    @Test
    void redirectHasIstiosInboundAndOutboundCapture() {
        List<String> lines = IstioIptables.redirect().restoreBatch().lines().toList();
        // Lines as Istio's inbound-ports-wildcard golden file writes them.
        for (String istio : List.of("-A ISTIO_INBOUND -p tcp --dport 15008 -j RETURN",
                "-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006", "-A PREROUTING -p tcp -j ISTIO_INBOUND",
                "-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT", "-A OUTPUT -j ISTIO_OUTPUT",
                "-A ISTIO_OUTPUT -o lo -s 127.0.0.6/32 -j RETURN",
                "-A ISTIO_OUTPUT -o lo ! -d 127.0.0.1/32 -p tcp ! --dport 15008 -m owner --uid-owner 1337 -j ISTIO_IN_REDIRECT",
                "-A ISTIO_OUTPUT -o lo -m owner ! --uid-owner 1337 -j RETURN", "-A ISTIO_OUTPUT -m owner --uid-owner 1337 -j RETURN",
                "-A ISTIO_OUTPUT -m owner --gid-owner 1337 -j RETURN", "-A ISTIO_OUTPUT -d 127.0.0.1/32 -j RETURN")) {
            assertTrue(lines.contains(istio), istio);
        }
        assertFalse(lines.stream().anyMatch(l -> l.contains("mangle") || l.contains("TPROXY")));
    }

    @Test
    void tproxyHasIstiosMangleChainsPlusTheMarkReturnIstioLacks() {
        List<String> lines = IstioIptables.tproxy().restoreBatch().lines().toList();
        for (String istio : List.of("-A ISTIO_DIVERT -j MARK --set-mark 1337",
                "-A ISTIO_TPROXY ! -d 127.0.0.1/32 -p tcp -j TPROXY --tproxy-mark 1337/0xffffffff --on-port 15006",
                "-A ISTIO_INBOUND -p tcp -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT",
                "-A PREROUTING -p tcp -m mark --mark 1337 -j CONNMARK --save-mark",
                "-A OUTPUT -p tcp -m connmark --mark 1337 -j CONNMARK --restore-mark")) {
            assertTrue(lines.contains(istio), istio);
        }
        // Istio's -I ISTIO_INBOUND 1..3, already in place at the top of the chain.
        int first = lines.indexOf("-A ISTIO_INBOUND -p tcp -m mark --mark 1337 -j RETURN");
        assertEquals("-A ISTIO_INBOUND -p tcp -s 127.0.0.6/32 -i lo -j RETURN", lines.get(first + 1));
        assertEquals("-A ISTIO_INBOUND -p tcp -i lo -m mark ! --mark 1338 -j RETURN", lines.get(first + 2));
        // The addition: first in nat ISTIO_OUTPUT, before the hairpin redirect of uid 1337.
        int output = lines.indexOf("-A OUTPUT -j ISTIO_OUTPUT");
        assertEquals("-A ISTIO_OUTPUT -o lo -p tcp -m mark --mark 1337 -j RETURN", lines.get(output + 2));
        assertFalse(lines.contains("-A PREROUTING -p tcp -j ISTIO_INBOUND") && lines.lastIndexOf("-A PREROUTING -p tcp -j ISTIO_INBOUND")
                > lines.indexOf("* nat"), "TPROXY captures in mangle, not in nat");
    }

    @Test
    void selectedInboundPortsAreTheOnlyOnesCaptured() {
        String redirect = IstioIptables.redirect().inboundPorts(8000, 9080).restoreBatch();
        assertTrue(redirect.contains("-A ISTIO_INBOUND -p tcp --dport 8000 -j ISTIO_IN_REDIRECT\n"
                + "-A ISTIO_INBOUND -p tcp --dport 9080 -j ISTIO_IN_REDIRECT\n"), redirect);
        assertFalse(redirect.contains("-A ISTIO_INBOUND -p tcp -j ISTIO_IN_REDIRECT"));
        String tproxy = IstioIptables.tproxy().inboundPorts(8000).restoreBatch();
        assertTrue(tproxy.contains("-A ISTIO_INBOUND -p tcp --dport 8000 -m conntrack --ctstate RELATED,ESTABLISHED -j ISTIO_DIVERT\n"
                + "-A ISTIO_INBOUND -p tcp --dport 8000 -j ISTIO_TPROXY\n"), tproxy);
        assertThrows(IllegalArgumentException.class, () -> IstioIptables.redirect().inboundPorts(0));
    }
}
