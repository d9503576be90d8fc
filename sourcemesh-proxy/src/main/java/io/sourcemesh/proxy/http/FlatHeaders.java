package io.sourcemesh.proxy.http;

import io.netty.buffer.ByteBuf;
import io.netty.handler.codec.DateFormatter;
import io.netty.handler.codec.DefaultHeaders;
import io.netty.handler.codec.http.DefaultHttpHeadersFactory;
import io.netty.handler.codec.http.HttpHeaderNames;
import io.netty.handler.codec.http.HttpHeaders;
import io.netty.handler.codec.http.HttpHeadersFactory;
import io.netty.util.AsciiString;
import io.netty.util.concurrent.FastThreadLocal;
import io.sourcemesh.proxy.http.forwarded.RequestHeaderMutator;
import java.util.AbstractList;
import java.util.AbstractMap;
import java.util.ArrayList;
import java.util.Calendar;
import java.util.Collections;
import java.util.Date;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.NoSuchElementException;
import java.util.Set;

/**
 * The proxy's HTTP/1.1 headers: names and values side by side in one array, in arrival order,
 * looked up by a case-insensitive scan. A message carries a handful of headers, so a scan is as
 * quick as Netty's hash buckets and costs no entry object per header line, no bucket array and no
 * second map object per message (together about a third of what a proxied request allocated).
 * Behaves as Netty's {@code DefaultHttpHeaders}: the same name and value validation (so a decoder
 * using these accepts and refuses exactly what it did before), {@code set} moves a name to the
 * end, values are kept as the {@link CharSequence} given and made {@link String}s only when read
 * as strings.
 */
class FlatHeaders extends HttpHeaders {
    private static final DefaultHttpHeadersFactory NETTY = DefaultHttpHeadersFactory.headersFactory();
    /** Request and response heads: validated as Netty's default headers. */
    static final HttpHeadersFactory FACTORY = new HttpHeadersFactory() {
        @Override
        public HttpHeaders newHeaders() {
            return new FlatHeaders(NETTY.getNameValidator(), NETTY.getValueValidator());
        }

        @Override
        public HttpHeaders newEmptyHeaders() {
            return newHeaders();
        }
    };
    private static final int INITIAL_ENTRIES = 8;
    private static final CharSequence[] NONE = new CharSequence[0];

    private final DefaultHeaders.NameValidator<CharSequence> nameValidator;
    private final DefaultHeaders.ValueValidator<CharSequence> valueValidator;
    /** name, value, name, value, ...; made on the first add. */
    private CharSequence[] kv = NONE;
    private int size;
    /**
     * The {@link #presenceBit}s of the names held: a look-up or removal of a name whose bit is clear
     * scans nothing. Most are of names a message does not carry
     * (hop-by-hop names, transfer-encoding, upgrade), several per proxied request.
     */
    private long present;

    FlatHeaders(DefaultHeaders.NameValidator<CharSequence> nameValidator, DefaultHeaders.ValueValidator<CharSequence> valueValidator) {
        this.nameValidator = nameValidator;
        this.valueValidator = valueValidator;
    }

    /** Message headers (validated as {@link #FACTORY}'s) with room for {@code entries} before they grow. */
    static FlatHeaders sized(int entries) {
        FlatHeaders h = new FlatHeaders(NETTY.getNameValidator(), NETTY.getValueValidator());
        h.kv = new CharSequence[2 * entries];
        return h;
    }

    /** Adds a name and value the caller has already checked to be a token and a valid field value. */
    void appendTrusted(AsciiString name, AsciiString value) {
        append(name, value);
    }

    // ---- reading ----------------------------------------------------------------------------------

    private static boolean same(CharSequence a, CharSequence b) {
        return AsciiString.contentEqualsIgnoreCase(a, b);
    }

    /**
     * One of 64 bits for {@code name}, the same for every spelling of it that {@link #same} takes as equal
     * (ASCII case folded by setting 0x20): from its length and first and last characters.
     */
    static long presenceBit(CharSequence name) {
        int n = name.length();
        if (n == 0) {
            return 1L;
        }
        // mixed by multiplying (golden-ratio and murmur constants) so that names common in one message rarely share a bit
        int h = n * 0x9E3779B9 + (name.charAt(0) | 0x20) * 0x85EBCA6B + (name.charAt(n - 1) | 0x20) * 0xC2B2AE35;
        return 1L << (h >>> 26);
    }

    private int find(CharSequence name, int from) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        if ((present & presenceBit(name)) == 0) {
            return -1;
        }
        for (int i = from; i < size; i++) {
            if (same(kv[2 * i], name)) {
                return i;
            }
        }
        return -1;
    }

    /** How many lines carry {@code name} (no list or String made). */
    int count(CharSequence name) {
        int n = 0;
        for (int i = find(name, 0); i >= 0; i = find(name, i + 1)) {
            n++;
        }
        return n;
    }

    /** The first value of {@code name} as it was given (no String made), or null. */
    CharSequence value(CharSequence name) {
        int i = find(name, 0);
        return i < 0 ? null : kv[2 * i + 1];
    }

    @Override
    public String get(String name) {
        return get((CharSequence) name);
    }

    @Override
    public String get(CharSequence name) {
        CharSequence v = value(name);
        return v == null ? null : v.toString();
    }

    @Override
    public Integer getInt(CharSequence name) {
        CharSequence v = value(name);
        if (v == null) {
            return null;
        }
        try {
            return v instanceof AsciiString a ? a.parseInt() : Integer.parseInt(v.toString());
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public int getInt(CharSequence name, int defaultValue) {
        Integer v = getInt(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Short getShort(CharSequence name) {
        CharSequence v = value(name);
        if (v == null) {
            return null;
        }
        try {
            return v instanceof AsciiString a ? a.parseShort() : Short.parseShort(v.toString());
        } catch (RuntimeException e) {
            return null;
        }
    }

    @Override
    public short getShort(CharSequence name, short defaultValue) {
        Short v = getShort(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public Long getTimeMillis(CharSequence name) {
        CharSequence v = value(name);
        if (v == null) {
            return null;
        }
        Date d = DateFormatter.parseHttpDate(v);
        if (d == null) {
            throw new IllegalArgumentException("header can't be parsed into a Date: " + v); // Netty's headers throw too
        }
        return d.getTime();
    }

    @Override
    public long getTimeMillis(CharSequence name, long defaultValue) {
        Long v = getTimeMillis(name);
        return v == null ? defaultValue : v;
    }

    @Override
    public List<String> getAll(String name) {
        return getAll((CharSequence) name);
    }

    @Override
    public List<String> getAll(CharSequence name) {
        int first = find(name, 0);
        if (first < 0) {
            return Collections.emptyList();
        }
        return new Values(name, first);
    }

    /** Every value of one name, read through to these headers (Netty's decoder sets a folded trailer line through it). */
    private final class Values extends AbstractList<String> {
        private final CharSequence name;
        private final int first;
        private int count = -1;

        Values(CharSequence name, int first) {
            this.name = name;
            this.first = first;
        }

        private int at(int n) {
            if (n < 0) {
                throw new IndexOutOfBoundsException(n);
            }
            for (int i = find(name, first); i >= 0; i = find(name, i + 1)) {
                if (n-- == 0) {
                    return i;
                }
            }
            throw new IndexOutOfBoundsException();
        }

        @Override
        public String get(int index) {
            return kv[2 * at(index) + 1].toString();
        }

        @Override
        public String set(int index, String value) {
            int i = at(index);
            String old = kv[2 * i + 1].toString();
            kv[2 * i + 1] = checkedValue(value);
            return old;
        }

        @Override
        public int size() {
            if (count < 0) {
                int n = 0;
                for (int i = find(name, first); i >= 0; i = find(name, i + 1)) {
                    n++;
                }
                count = n;
            }
            return count;
        }
    }

    @Override
    public List<Map.Entry<String, String>> entries() {
        List<Map.Entry<String, String>> list = new ArrayList<>(size);
        for (int i = 0; i < size; i++) {
            list.add(new AbstractMap.SimpleImmutableEntry<>(kv[2 * i].toString(), kv[2 * i + 1].toString()));
        }
        return list;
    }

    @Override
    public boolean contains(String name) {
        return find(name, 0) >= 0;
    }

    @Override
    public boolean contains(CharSequence name) {
        return find(name, 0) >= 0;
    }

    @Override
    public boolean contains(String name, String value, boolean ignoreCase) {
        return contains((CharSequence) name, value, ignoreCase);
    }

    @Override
    public boolean contains(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = find(name, 0); i >= 0; i = find(name, i + 1)) {
            CharSequence v = kv[2 * i + 1];
            if (ignoreCase ? AsciiString.contentEqualsIgnoreCase(v, value) : AsciiString.contentEquals(v, value)) {
                return true;
            }
        }
        return false;
    }

    /**
     * Netty's rule (a comma-separated list, each element trimmed) without its allocations: Netty
     * trims an {@link AsciiString} that is a slice of a larger array into a new object even when
     * there is nothing to trim, and this is asked of every message ({@code HttpUtil.isKeepAlive}).
     */
    @Override
    public boolean containsValue(CharSequence name, CharSequence value, boolean ignoreCase) {
        for (int i = find(name, 0); i >= 0; i = find(name, i + 1)) {
            CharSequence v = kv[2 * i + 1];
            int start = 0;
            while (true) {
                int comma = start;
                while (comma < v.length() && v.charAt(comma) != ',') {
                    comma++;
                }
                int s = start;
                int e = comma;
                while (s < e && v.charAt(s) <= ' ') {
                    s++;
                }
                while (e > s && v.charAt(e - 1) <= ' ') {
                    e--;
                }
                if (e - s == value.length() && regionMatches(v, s, value, ignoreCase)) {
                    return true;
                }
                if (comma >= v.length()) {
                    break;
                }
                start = comma + 1;
            }
        }
        return false;
    }

    private static boolean regionMatches(CharSequence v, int at, CharSequence value, boolean ignoreCase) {
        for (int k = 0; k < value.length(); k++) {
            char a = v.charAt(at + k);
            char b = value.charAt(k);
            if (a != b && (!ignoreCase || AsciiString.toLowerCase(a) != AsciiString.toLowerCase(b))) {
                return false;
            }
        }
        return true;
    }

    @Override
    public Iterator<Map.Entry<String, String>> iterator() {
        return entries().iterator();
    }

    @Override
    public Iterator<String> valueStringIterator(CharSequence name) {
        return getAll(name).iterator();
    }

    /** The values as given, no Strings made (what {@code containsValue}, and so {@code HttpUtil.isKeepAlive}, reads). */
    @Override
    public Iterator<CharSequence> valueCharSequenceIterator(CharSequence name) {
        int first = find(name, 0);
        if (first < 0) {
            return Collections.emptyIterator();
        }
        return new Iterator<>() {
            private int next = first;

            @Override
            public boolean hasNext() {
                return next >= 0;
            }

            @Override
            public CharSequence next() {
                if (next < 0) {
                    throw new NoSuchElementException();
                }
                CharSequence v = kv[2 * next + 1];
                next = find(name, next + 1);
                return v;
            }
        };
    }

    /**
     * One cursor that is also the current entry (Netty's own headers hand out their entries the same
     * way): an encoder walking the headers allocates one object, not one per header.
     */
    @Override
    public Iterator<Map.Entry<CharSequence, CharSequence>> iteratorCharSequence() {
        return new Cursor();
    }

    private final class Cursor implements Iterator<Map.Entry<CharSequence, CharSequence>>, Map.Entry<CharSequence, CharSequence> {
        private int next;
        private int current = -1;

        @Override
        public boolean hasNext() {
            return next < size;
        }

        @Override
        public Map.Entry<CharSequence, CharSequence> next() {
            if (next >= size) {
                throw new NoSuchElementException();
            }
            current = next++;
            return this;
        }

        @Override
        public CharSequence getKey() {
            return kv[2 * current];
        }

        @Override
        public CharSequence getValue() {
            return kv[2 * current + 1];
        }

        @Override
        public CharSequence setValue(CharSequence value) {
            CharSequence old = kv[2 * current + 1];
            kv[2 * current + 1] = checkedValue(value);
            return old;
        }

        @Override
        public String toString() {
            return getKey() + "=" + getValue();
        }
    }

    @Override
    public boolean isEmpty() {
        return size == 0;
    }

    @Override
    public int size() {
        return size;
    }

    @Override
    public Set<String> names() {
        Set<String> names = new LinkedHashSet<>();
        for (int i = 0; i < size; i++) {
            names.add(kv[2 * i].toString());
        }
        return names;
    }

    // ---- writing ----------------------------------------------------------------------------------

    /** As Netty's header value converter: text as given, dates in HTTP format, anything else its toString. */
    private CharSequence checkedValue(Object value) {
        if (value == null) {
            throw new NullPointerException("value");
        }
        CharSequence v;
        if (value instanceof CharSequence cs) {
            v = cs;
        } else if (value instanceof Date d) {
            v = DateFormatter.format(d);
        } else if (value instanceof Calendar c) {
            v = DateFormatter.format(c.getTime());
        } else {
            v = value.toString();
        }
        valueValidator.validate(v);
        return v;
    }

    private void append(CharSequence name, CharSequence value) {
        if (2 * size == kv.length) {
            kv = java.util.Arrays.copyOf(kv, Math.max(2 * INITIAL_ENTRIES, 2 * kv.length));
        }
        kv[2 * size] = name;
        kv[2 * size + 1] = value;
        size++;
        present |= presenceBit(name);
    }

    private CharSequence checkedName(CharSequence name) {
        if (name == null) {
            throw new NullPointerException("name");
        }
        if (!ownName(name)) {
            nameValidator.validateName(name);
        }
        return name;
    }

    /**
     * The proxy's own constant names, which it sets on every message: valid tokens (checked once, here),
     * so {@code set} skips the per-character validation for these very instances. An equal name from the
     * wire or from config is another instance and is validated as before.
     */
    private static final AsciiString[] OWN_NAMES = ownNames(HttpHeaderNames.SERVER, HttpHeaderNames.CONNECTION,
            RequestHeaderMutator.X_FORWARDED_FOR, RequestHeaderMutator.X_FORWARDED_PROTO, RequestHeaderMutator.X_REQUEST_ID,
            RequestHeaderMutator.X_ENVOY_EXTERNAL_ADDRESS, RequestHeaderMutator.X_ENVOY_INTERNAL,
            Router.X_ENVOY_UPSTREAM_SERVICE_TIME, HttpHeaderNames.HOST, HttpHeaderNames.LOCATION);

    private static AsciiString[] ownNames(AsciiString... names) {
        for (AsciiString name : names) {
            NETTY.getNameValidator().validateName(name);
        }
        return names;
    }

    static boolean ownName(CharSequence name) {
        for (AsciiString own : OWN_NAMES) {
            if (own == name) {
                return true;
            }
        }
        return false;
    }

    @Override
    public HttpHeaders add(String name, Object value) {
        return add((CharSequence) name, value);
    }

    @Override
    public HttpHeaders add(CharSequence name, Object value) {
        CharSequence n = checkedName(name);
        append(n, checkedValue(value));
        return this;
    }

    @Override
    public HttpHeaders add(String name, Iterable<?> values) {
        return add((CharSequence) name, values);
    }

    @Override
    public HttpHeaders add(CharSequence name, Iterable<?> values) {
        CharSequence n = checkedName(name);
        for (Object v : values) {
            append(n, checkedValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders addInt(CharSequence name, int value) {
        return add(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders addShort(CharSequence name, short value) {
        return add(name, Short.toString(value));
    }

    @Override
    public HttpHeaders set(String name, Object value) {
        return set((CharSequence) name, value);
    }

    @Override
    public HttpHeaders set(CharSequence name, Object value) {
        CharSequence n = checkedName(name);
        CharSequence v = checkedValue(value);
        remove(n);
        append(n, v);
        return this;
    }

    @Override
    public HttpHeaders set(String name, Iterable<?> values) {
        return set((CharSequence) name, values);
    }

    @Override
    public HttpHeaders set(CharSequence name, Iterable<?> values) {
        CharSequence n = checkedName(name);
        remove(n);
        for (Object v : values) {
            if (v == null) {
                break; // as Netty's DefaultHeaders.set(name, Iterable)
            }
            append(n, checkedValue(v));
        }
        return this;
    }

    @Override
    public HttpHeaders setInt(CharSequence name, int value) {
        return set(name, Integer.toString(value));
    }

    @Override
    public HttpHeaders setShort(CharSequence name, short value) {
        return set(name, Short.toString(value));
    }

    @Override
    public HttpHeaders remove(String name) {
        return remove((CharSequence) name);
    }

    @Override
    public HttpHeaders remove(CharSequence name) {
        if (name == null || (present & presenceBit(name)) == 0) {
            return this; // as before the bits: a null name matched no line
        }
        int w = 0;
        long kept = 0;
        for (int r = 0; r < size; r++) {
            if (!same(kv[2 * r], name)) {
                if (w != r) {
                    kv[2 * w] = kv[2 * r];
                    kv[2 * w + 1] = kv[2 * r + 1];
                }
                kept |= presenceBit(kv[2 * w]);
                w++;
            }
        }
        present = kept;
        for (int i = w; i < size; i++) {
            kv[2 * i] = null;
            kv[2 * i + 1] = null;
        }
        size = w;
        return this;
    }

    @Override
    public HttpHeaders clear() {
        java.util.Arrays.fill(kv, 0, 2 * size, null);
        size = 0;
        present = 0;
        return this;
    }

    @Override
    public HttpHeaders copy() {
        FlatHeaders copy = new FlatHeaders(nameValidator, valueValidator);
        copy.kv = size == 0 ? NONE : java.util.Arrays.copyOf(kv, 2 * size);
        copy.size = size;
        copy.present = present;
        return copy;
    }

    /**
     * Writes every header line ({@code name: value CRLF}) as Netty's encoder does, without an iterator: assembled
     * in the loop's scratch array and copied into {@code buf} once. Written piece by piece, each name and value
     * was a copy of its own into the direct buffer, each with the JDK's bounds checks (~1.5% of a keep-alive
     * request's CPU, both codecs).
     */
    void encode(ByteBuf buf) {
        int length = 0;
        for (int i = 0; i < 2 * size; i++) {
            length += kv[i].length();
        }
        length += 4 * size;
        byte[] out = SCRATCH.get();
        if (out.length < length) {
            out = new byte[length];
            if (length <= MAX_SCRATCH) {
                SCRATCH.set(out); // kept for the loop's next blocks; a larger one is not kept
            }
        }
        int at = 0;
        for (int i = 0; i < size; i++) {
            at = lowerCase(out, at, ascii(kv[2 * i], out, at));
            out[at++] = ':';
            out[at++] = ' ';
            at = ascii(kv[2 * i + 1], out, at);
            out[at++] = '\r';
            out[at++] = '\n';
        }
        buf.writeBytes(out, 0, at);
    }

    /** Header blocks up to this size are assembled in the loop's reused array; a larger one in an array of its own. */
    private static final int MAX_SCRATCH = 16 * 1024;
    private static final FastThreadLocal<byte[]> SCRATCH = new FastThreadLocal<>() {
        @Override
        protected byte[] initialValue() {
            return new byte[1024];
        }
    };

    /**
     * Lower-cases the name just written to {@code out[from, to)}; returns {@code to}. Envoy's header map keeps names in
     * lower case and its HTTP/1 encoder writes them so, both ways (header_key_format, which would change that, is
     * refused): a name arrives in any case, leaves in lower case. In place, as the name is copied: no name object.
     */
    private static int lowerCase(byte[] out, int from, int to) {
        for (int i = from; i < to; i++) {
            byte c = out[i];
            if (c >= 'A' && c <= 'Z') {
                out[i] = (byte) (c + 32);
            }
        }
        return to;
    }

    /**
     * Headers of another kind written as {@link #encode} writes its own (names in lower case, as Envoy's encoder);
     * a message a filter or local reply made with Netty's headers.
     */
    static void encode(HttpHeaders headers, ByteBuf buf) {
        Iterator<Map.Entry<CharSequence, CharSequence>> it = headers.iteratorCharSequence();
        while (it.hasNext()) {
            Map.Entry<CharSequence, CharSequence> e = it.next();
            CharSequence name = e.getKey();
            for (int i = 0; i < name.length(); i++) {
                char c = name.charAt(i);
                buf.writeByte(c >= 'A' && c <= 'Z' ? c + 32 : AsciiString.c2b(c));
            }
            buf.writeByte(':').writeByte(' ');
            buf.writeCharSequence(e.getValue(), java.nio.charset.StandardCharsets.ISO_8859_1);
            buf.writeByte('\r').writeByte('\n');
        }
    }

    /** {@code s} as ASCII into {@code out} at {@code at} (a char above 255 as '?', as Netty's writeAscii); returns the end. */
    private static int ascii(CharSequence s, byte[] out, int at) {
        int n = s.length();
        if (s instanceof AsciiString a) {
            System.arraycopy(a.array(), a.arrayOffset(), out, at, n);
        } else {
            for (int i = 0; i < n; i++) {
                out[at + i] = AsciiString.c2b(s.charAt(i));
            }
        }
        return at + n;
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(getClass().getSimpleName()).append('[');
        for (int i = 0; i < size; i++) {
            b.append(i == 0 ? "" : ", ").append(kv[2 * i]).append(": ").append(kv[2 * i + 1]);
        }
        return b.append(']').toString();
    }
}
