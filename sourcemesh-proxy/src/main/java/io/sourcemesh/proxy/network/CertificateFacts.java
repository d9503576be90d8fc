package io.sourcemesh.proxy.network;

import io.sourcemesh.proxy.accesslog.TlsCertificate;
import io.sourcemesh.proxy.address.IpLiteral;
import java.math.BigInteger;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.CertificateParsingException;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import javax.security.auth.x500.X500Principal;
import org.bouncycastle.asn1.ASN1Encodable;
import org.bouncycastle.asn1.ASN1String;
import org.bouncycastle.asn1.ASN1UniversalString;
import org.bouncycastle.asn1.x500.AttributeTypeAndValue;
import org.bouncycastle.asn1.x500.RDN;
import org.bouncycastle.asn1.x500.X500Name;

/**
 * One certificate's facts as Envoy prints them (source/common/tls/utility.cc and connection_info_impl_base.cc, over
 * BoringSSL): subject alternative names by type, subject and issuer in RFC 2253 as OpenSSL's X509_NAME_print_ex
 * with XN_FLAG_RFC2253, the serial as BN_bn2hex, digests in lower-case hex, the URL-encoded PEM. Each is read from
 * the certificate at its first use and kept: what x-forwarded-client-cert, RBAC and the access log share. Confined
 * to the connection's event loop, as the connection is.
 */
public final class CertificateFacts implements TlsCertificate {
    private static final int SAN_EMAIL = 1;
    private static final int SAN_DNS = 2;
    private static final int SAN_URI = 6;
    private static final int SAN_IP = 7;

    /** OpenSSL's short names (XN_FLAG_FN_SN) of the attribute types a distinguished name commonly holds. */
    private static final Map<String, String> OPENSSL_SHORT_NAMES = Map.ofEntries(
            Map.entry("2.5.4.3", "CN"),
            Map.entry("2.5.4.6", "C"),
            Map.entry("2.5.4.7", "L"),
            Map.entry("2.5.4.8", "ST"),
            Map.entry("2.5.4.10", "O"),
            Map.entry("2.5.4.11", "OU"),
            Map.entry("0.9.2342.19200300.100.1.25", "DC"),
            Map.entry("0.9.2342.19200300.100.1.1", "UID"),
            Map.entry("2.5.4.9", "street"),
            Map.entry("1.2.840.113549.1.9.1", "emailAddress"),
            Map.entry("1.2.840.113549.1.9.2", "unstructuredName"),
            Map.entry("2.5.4.4", "SN"),
            Map.entry("2.5.4.5", "serialNumber"),
            Map.entry("2.5.4.12", "title"),
            Map.entry("2.5.4.13", "description"),
            Map.entry("2.5.4.15", "businessCategory"),
            Map.entry("2.5.4.17", "postalCode"),
            Map.entry("2.5.4.18", "postOfficeBox"),
            Map.entry("2.5.4.20", "telephoneNumber"),
            Map.entry("2.5.4.41", "name"),
            Map.entry("2.5.4.42", "GN"),
            Map.entry("2.5.4.43", "initials"),
            Map.entry("2.5.4.44", "generationQualifier"),
            Map.entry("2.5.4.46", "dnQualifier"),
            Map.entry("2.5.4.65", "pseudonym"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.1", "jurisdictionL"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.2", "jurisdictionST"),
            Map.entry("1.3.6.1.4.1.311.60.2.1.3", "jurisdictionC"));

    private final X509Certificate certificate;
    private List<String> uriSans;
    private List<String> dnsSans;
    private List<String> ipSans;
    private List<String> emailSans;
    private String subject;
    private String issuer;
    private String serial;
    private String sha256;
    private String sha1;
    private String pem;

    public CertificateFacts(X509Certificate certificate) {
        this.certificate = certificate;
    }

    public X509Certificate certificate() {
        return certificate;
    }

    @Override
    public List<String> uriSans() {
        if (uriSans == null) {
            uriSans = sans(certificate, SAN_URI);
        }
        return uriSans;
    }

    @Override
    public List<String> dnsSans() {
        if (dnsSans == null) {
            dnsSans = sans(certificate, SAN_DNS);
        }
        return dnsSans;
    }

    @Override
    public List<String> ipSans() {
        if (ipSans == null) {
            List<String> out = new ArrayList<>();
            for (String ip : sans(certificate, SAN_IP)) {
                byte[] raw = IpLiteral.parse(ip);
                out.add(raw == null ? ip : IpLiteral.format(raw)); // the JDK writes IPv6 uncompressed; inet_ntop does not
            }
            ipSans = List.copyOf(out);
        }
        return ipSans;
    }

    @Override
    public List<String> emailSans() {
        if (emailSans == null) {
            emailSans = sans(certificate, SAN_EMAIL);
        }
        return emailSans;
    }

    @Override
    public String subject() {
        if (subject == null) {
            subject = rfc2253(certificate.getSubjectX500Principal());
        }
        return subject;
    }

    @Override
    public String issuer() {
        if (issuer == null) {
            issuer = rfc2253(certificate.getIssuerX500Principal());
        }
        return issuer;
    }

    @Override
    public String serialNumber() {
        if (serial == null) {
            serial = serialHex(certificate.getSerialNumber());
        }
        return serial;
    }

    @Override
    public String sha256Digest() {
        if (sha256 == null) {
            sha256 = digest("SHA-256");
        }
        return sha256;
    }

    @Override
    public String sha1Digest() {
        if (sha1 == null) {
            sha1 = digest("SHA-1");
        }
        return sha1;
    }

    @Override
    public String urlEncodedPem() {
        if (pem == null) {
            pem = urlEncodedPem(certificate);
        }
        return pem;
    }

    @Override
    public long notBeforeMillis() {
        return certificate.getNotBefore().getTime();
    }

    @Override
    public long notAfterMillis() {
        return certificate.getNotAfter().getTime();
    }

    private String digest(String algorithm) {
        try {
            return hexDigest(algorithm, certificate.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@code bytes}' digest in lower-case hex, as Envoy prints and pins certificate hashes. */
    public static String hexDigest(String algorithm, byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(algorithm + " is part of every JDK", e);
        }
    }

    /**
     * An X.500 name as BoringSSL's X509_NAME_print_ex(XN_FLAG_RFC2253) prints it: every attribute from the last to
     * the first (XN_FLAG_DN_REV: RDNs, and the attributes within a multi-valued one, in reverse), ',' between RDNs and
     * '+' within one, each type by OpenSSL's short name (else its dotted OID, its value then dumped as '#' and the
     * DER's hex), each string value as UTF-8 with ASN1_STRFLGS_RFC2253's escapes — {@code \} before {@code ,+"\<>;}, a
     * leading '#' or space and a trailing space; control characters and every byte of a non-ASCII character as
     * {@code \XX}. (The JDK's own RFC 2253 form differs: it keeps a multi-valued RDN's order, writes non-ASCII
     * characters as they are, escapes '#' anywhere, and names emailAddress, serialNumber and others by OID.)
     */
    static String rfc2253(X500Principal name) {
        RDN[] rdns = X500Name.getInstance(name.getEncoded()).getRDNs();
        StringBuilder out = new StringBuilder(64);
        boolean first = true;
        for (int i = rdns.length - 1; i >= 0; i--) {
            AttributeTypeAndValue[] avas = rdns[i].getTypesAndValues();
            for (int j = avas.length - 1; j >= 0; j--) {
                if (!first) {
                    out.append(j == avas.length - 1 ? ',' : '+');
                }
                first = false;
                String oid = avas[j].getType().getId();
                String shortName = OPENSSL_SHORT_NAMES.get(oid);
                ASN1Encodable value = avas[j].getValue();
                if (shortName == null) {
                    out.append(oid).append('=');
                    dump(out, value);
                } else if (value instanceof ASN1String text && !(value instanceof ASN1UniversalString)) {
                    out.append(shortName).append('=');
                    escape(out, text.getString());
                } else {
                    out.append(shortName).append('='); // ASN1_STRFLGS_DUMP_UNKNOWN: a value of no string type
                    dump(out, value);
                }
            }
        }
        return out.toString();
    }

    /** ASN1_STRFLGS_DUMP_DER: '#' and the value's DER in upper-case hex. */
    private static void dump(StringBuilder out, ASN1Encodable value) {
        try {
            out.append('#').append(HexFormat.of().withUpperCase().formatHex(value.toASN1Primitive().getEncoded()));
        } catch (java.io.IOException e) {
            throw new IllegalStateException(e);
        }
    }

    /** BoringSSL's do_esc_char under ASN1_STRFLGS_RFC2253, over the value's UTF-8 bytes. */
    private static void escape(StringBuilder out, String value) {
        byte[] utf8 = value.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < utf8.length; i++) {
            int c = utf8[i] & 0xff;
            if (c > 0x7f || c < 0x20 || c == 0x7f) {
                out.append('\\').append(HEX_UPPER[c >> 4]).append(HEX_UPPER[c & 0xf]);
            } else if (c == '\\' || c == '"' || c == ',' || c == '+' || c == '<' || c == '>' || c == ';'
                    || (i == 0 && (c == ' ' || c == '#')) || (i == utf8.length - 1 && c == ' ')) {
                out.append('\\').append((char) c);
            } else {
                out.append((char) c);
            }
        }
    }

    private static final char[] HEX_UPPER = "0123456789ABCDEF".toCharArray();

    /** BoringSSL's BN_bn2hex: lower-case, two digits a byte with leading zero bytes dropped, "0" for zero, '-' if negative. */
    static String serialHex(BigInteger serial) {
        if (serial.signum() == 0) {
            return "0";
        }
        byte[] magnitude = serial.abs().toByteArray();
        int from = 0;
        while (from < magnitude.length - 1 && magnitude[from] == 0) {
            from++;
        }
        String hex = HexFormat.of().formatHex(magnitude, from, magnitude.length);
        return serial.signum() < 0 ? "-" + hex : hex;
    }

    /** PEM as OpenSSL writes it (64-column base64, a newline after each line), with Envoy's five characters escaped. */
    static String urlEncodedPem(X509Certificate c) {
        String base64;
        try {
            base64 = Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII)).encodeToString(c.getEncoded());
        } catch (CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
        String pem = "-----BEGIN CERTIFICATE-----\n" + base64 + "\n-----END CERTIFICATE-----\n";
        StringBuilder out = new StringBuilder(pem.length() + pem.length() / 8);
        for (int i = 0; i < pem.length(); i++) {
            char ch = pem.charAt(i);
            switch (ch) {
                case '\n' -> out.append("%0A");
                case ' ' -> out.append("%20");
                case '+' -> out.append("%2B");
                case '/' -> out.append("%2F");
                case '=' -> out.append("%3D");
                default -> out.append(ch);
            }
        }
        return out.toString();
    }

    static List<String> sans(X509Certificate c, int type) {
        Collection<List<?>> all;
        try {
            all = c.getSubjectAlternativeNames();
        } catch (CertificateParsingException e) {
            return List.of();
        }
        if (all == null) {
            return List.of();
        }
        List<String> out = new ArrayList<>();
        for (List<?> san : all) {
            if (san.size() >= 2 && san.get(0) instanceof Integer t && t == type && san.get(1) instanceof String value) {
                out.add(value);
            }
        }
        return List.copyOf(out);
    }

    static List<String> uriSans(X509Certificate c) {
        return sans(c, SAN_URI);
    }
}
