package io.sourcemesh.proxy.network;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.sourcemesh.proxy.testing.TestCertificates;
import java.io.ByteArrayInputStream;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.bouncycastle.asn1.ASN1ObjectIdentifier;
import org.bouncycastle.asn1.DERUTF8String;
import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x500.X500NameBuilder;
import org.bouncycastle.asn1.x500.style.BCStyle;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A certificate's facts as Envoy prints them, checked against openssl's reading of the same certificate — the same
 * printing code as BoringSSL's under Envoy: X509_NAME_print_ex with XN_FLAG_RFC2253 ({@code -nameopt RFC2253}), the
 * serial's hex, the digests, the PEM.
 */
class CertificateFactsTest {
    @TempDir
    Path dir;

    private static X509Certificate parse(String pem) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509")
                .generateCertificate(new ByteArrayInputStream(pem.getBytes(StandardCharsets.US_ASCII)));
    }

    /** {@code openssl x509 -noout ARGS} on the certificate: what follows the first '=' of its output, or all of it. */
    private String openssl(Path crt, String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("openssl", "x509", "-in", crt.toString()));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertEquals(0, p.waitFor(), out);
        return out;
    }

    private String opensslValue(Path crt, String... args) throws Exception {
        List<String> all = new ArrayList<>(List.of("-noout"));
        all.addAll(List.of(args));
        String out = openssl(crt, all.toArray(String[]::new));
        out = out.endsWith("\n") ? out.substring(0, out.length() - 1) : out; // not strip(): a value may end in an escaped space
        return out.substring(out.indexOf('=') + 1);
    }

    private static X500Name rich() {
        X500NameBuilder b = new X500NameBuilder(BCStyle.INSTANCE);
        b.addRDN(BCStyle.DC, "example");
        b.addRDN(BCStyle.C, "US");
        b.addRDN(BCStyle.ST, "Some-State");
        b.addRDN(BCStyle.L, "San Francisco");
        b.addRDN(BCStyle.STREET, "1 Main St");
        b.addRDN(BCStyle.O, "Acme, Inc.");
        b.addMultiValuedRDN(new ASN1ObjectIdentifier[] {BCStyle.OU, BCStyle.OU}, new String[] {"eng", "ops"});
        b.addRDN(BCStyle.SERIALNUMBER, "42");
        b.addRDN(BCStyle.EmailAddress, "sleep@example.com");
        b.addRDN(BCStyle.UID, "u1");
        b.addRDN(BCStyle.T, "Dr");
        b.addRDN(BCStyle.GIVENNAME, "Ada");
        b.addRDN(BCStyle.SURNAME, "Lovelace");
        b.addRDN(new ASN1ObjectIdentifier("1.3.6.1.4.1.99999.1"), new DERUTF8String("private"));
        b.addRDN(BCStyle.CN, "Jos\u00e9 \u00d1 <x>;\"q\"\\ #1 \ud83d\ude00 tab\tend");
        return b.build();
    }

    @Test
    void matchesOpensslsReadingOfTheSameCertificate() throws Exception {
        record Case(String what, X500Name subject, BigInteger serial) {}
        List<Case> cases = List.of(
                new Case("every attribute a DN commonly holds, escapes, UTF-8, a multi-valued RDN, an unknown OID", rich(),
                        new BigInteger("0abc", 16)),
                new Case("a value that starts with '#' and one with spaces at both ends", new X500Name(new org.bouncycastle.asn1.x500.RDN[] {
                        new org.bouncycastle.asn1.x500.RDN(BCStyle.O, new DERUTF8String(" padded ")),
                        new org.bouncycastle.asn1.x500.RDN(BCStyle.CN, new DERUTF8String("#hash"))}), BigInteger.valueOf(0x80)),
                new Case("a plain CN and a 20-byte serial", new X500Name("CN=sleep"),
                        new BigInteger("7f0102030405060708090a0b0c0d0e0f10111213", 16)),
                new Case("a serial whose top bit is set", new X500Name("CN=a,O=b"), new BigInteger("ff00", 16)));
        for (Case c : cases) {
            TestCertificates.Pem pem = TestCertificates.selfSigned("EC", c.subject(), c.serial(), "sleep.default.svc", "sleep",
                    "spiffe://cluster.local/ns/default/sa/sleep", "10.1.2.3", "2001:db8::5", "::1", "ops@example.com");
            Path crt = Files.writeString(dir.resolve("c.crt"), pem.certificate());
            CertificateFacts f = new CertificateFacts(parse(pem.certificate()));
            assertEquals(opensslValue(crt, "-subject", "-nameopt", "RFC2253"), f.subject(), c.what());
            assertEquals(opensslValue(crt, "-issuer", "-nameopt", "RFC2253"), f.issuer(), c.what());
            assertEquals(opensslValue(crt, "-serial").toLowerCase(Locale.ROOT), f.serialNumber(), c.what());
            assertEquals(opensslValue(crt, "-fingerprint", "-sha256").replace(":", "").toLowerCase(Locale.ROOT), f.sha256Digest());
            assertEquals(opensslValue(crt, "-fingerprint", "-sha1").replace(":", "").toLowerCase(Locale.ROOT), f.sha1Digest());
            String opensslPem = openssl(crt); // openssl x509 writes the certificate back as PEM
            assertEquals(opensslPem.replace("\n", "%0A").replace(" ", "%20").replace("+", "%2B").replace("/", "%2F")
                    .replace("=", "%3D"), f.urlEncodedPem());
            assertEquals(List.of("sleep.default.svc", "sleep"), f.dnsSans());
            assertEquals(List.of("spiffe://cluster.local/ns/default/sa/sleep"), f.uriSans());
            assertEquals(List.of("10.1.2.3", "2001:db8::5", "::1"), f.ipSans(), "inet_ntop's form, as Envoy prints an IP SAN");
            assertEquals(List.of("ops@example.com"), f.emailSans());
        }
    }

    @Test
    void theRichSubjectAsEnvoyPrintsIt() throws Exception {
        TestCertificates.Pem pem = TestCertificates.selfSigned("EC", rich(), BigInteger.ONE);
        assertEquals("CN=Jos\\C3\\A9 \\C3\\91 \\<x\\>\\;\\\"q\\\"\\\\ #1 \\F0\\9F\\98\\80 tab\\09end,1.3.6.1.4.1.99999.1=#0C0770726976617465,"
                + "SN=Lovelace,GN=Ada,title=Dr,UID=u1,emailAddress=sleep@example.com,serialNumber=42,OU=ops+OU=eng,"
                + "O=Acme\\, Inc.,street=1 Main St,L=San Francisco,ST=Some-State,C=US,DC=example",
                new CertificateFacts(parse(pem.certificate())).subject());
    }

    @Test
    void serialsAsBoringSslsBnBn2hex() {
        assertEquals("0", CertificateFacts.serialHex(BigInteger.ZERO));
        assertEquals("01", CertificateFacts.serialHex(BigInteger.ONE), "whole bytes");
        assertEquals("0abc", CertificateFacts.serialHex(BigInteger.valueOf(0xabc)));
        assertEquals("80", CertificateFacts.serialHex(BigInteger.valueOf(0x80)), "no sign byte");
        assertEquals("-0abc", CertificateFacts.serialHex(BigInteger.valueOf(-0xabc)));
    }
}
