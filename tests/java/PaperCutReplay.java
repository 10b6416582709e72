import java.io.IOException;
import java.io.PrintWriter;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Hashtable;
import java.util.List;
import java.util.Properties;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import javax.naming.AuthenticationException;
import javax.naming.Context;
import javax.naming.NamingEnumeration;
import javax.naming.NamingException;
import javax.naming.directory.Attribute;
import javax.naming.directory.Attributes;
import javax.naming.directory.SearchControls;
import javax.naming.directory.SearchResult;
import javax.naming.ldap.Control;
import javax.naming.ldap.InitialLdapContext;
import javax.naming.ldap.LdapContext;
import javax.naming.ldap.LdapName;
import javax.naming.ldap.PagedResultsControl;
import javax.naming.ldap.PagedResultsResponseControl;

/**
 * Does what PaperCut NG/MF does with an LDAP server, through Java's own LDAP
 * client (JNDI), and writes what it saw as tab-separated lines.
 *
 * <p>Usage: {@code java PaperCutReplay <settings.properties> <output.tsv>}. The
 * settings name the server, the service account, the profile's searches and
 * fields (PaperCut's ldap.schema.* values), and the user to log in. Output
 * lines start with a record type: pages, user, group, member, lookup, login,
 * groupsof. Tabs, newlines and backslashes in values are escaped as \t, \n and
 * \\.
 */
public final class PaperCutReplay {
    private static final Pattern RESULT_CODE = Pattern.compile("error code (\\d+)");

    private final Properties settings;
    private final PrintWriter out;
    private final LdapName base;

    private PaperCutReplay(Properties settings, PrintWriter out) throws NamingException {
        this.settings = settings;
        this.out = out;
        this.base = new LdapName(setting("base"));
    }

    public static void main(String[] args) throws Exception {
        Properties settings = new Properties();
        try (Reader reader = Files.newBufferedReader(Paths.get(args[0]), StandardCharsets.UTF_8)) {
            settings.load(reader);
        }
        try (PrintWriter out = new PrintWriter(
                Files.newBufferedWriter(Paths.get(args[1]), StandardCharsets.UTF_8))) {
            new PaperCutReplay(settings, out).run();
        }
    }

    private void run() throws NamingException, IOException {
        LdapContext service = connect(setting("service.dn"), setting("service.password"));
        listUsers(service, true);
        listUsers(service, false);
        listGroups(service);
        lookUp(service);
        logIn(service);
        findGroupsOfUser(service);
        service.close();
    }

    /** A context bound as {@code principal}; JNDI's referral "ignore" sends ManageDsaIT. */
    private LdapContext connect(String principal, String password) throws NamingException {
        Hashtable<String, Object> env = new Hashtable<>();
        env.put(Context.INITIAL_CONTEXT_FACTORY, "com.sun.jndi.ldap.LdapCtxFactory");
        env.put(Context.PROVIDER_URL, setting("url"));
        env.put(Context.SECURITY_AUTHENTICATION, "simple");
        env.put(Context.SECURITY_PRINCIPAL, principal);
        env.put(Context.SECURITY_CREDENTIALS, password);
        env.put(Context.REFERRAL, "ignore");
        env.put("java.naming.ldap.version", "3");
        env.put("com.sun.jndi.ldap.connect.timeout", "10000");
        env.put("com.sun.jndi.ldap.read.timeout", "60000");
        return new InitialLdapContext(env, null);
    }

    /** Sync: every user with the user search and "*", paged at page.size or not. */
    private void listUsers(LdapContext ctx, boolean paged) throws NamingException, IOException {
        String label = paged ? "paged" : "unpaged";
        String filter = setting("user.search").replace("{0}", "*");
        SearchControls controls = subtree(paged ? userFields() : null);
        int pageSize = Integer.parseInt(setting("page.size"));
        int pages = 0;
        byte[] cookie = null;
        do {
            ctx.setRequestControls(paged
                    ? new Control[] {new PagedResultsControl(pageSize, cookie, Control.CRITICAL)}
                    : null);
            NamingEnumeration<SearchResult> results = ctx.search(base, filter, controls);
            while (results.hasMore()) {
                emitUser("user", label, results.next());
            }
            results.close();
            pages++;
            cookie = paged ? responseCookie(ctx) : null;
        } while (cookie != null && cookie.length > 0);
        ctx.setRequestControls(null);
        emit("pages", label, Integer.toString(pages));
    }

    /** Sync: every group with the group search and "*", then each group's members. */
    private void listGroups(LdapContext ctx) throws NamingException {
        String filter = setting("group.search").replace("{0}", "*");
        String nameField = setting("group.name.field");
        String memberField = setting("group.member.field");
        NamingEnumeration<SearchResult> results =
                ctx.search(base, filter, subtree(new String[] {nameField}));
        List<String[]> groups = new ArrayList<>();
        while (results.hasMore()) {
            SearchResult result = results.next();
            groups.add(new String[] {result.getNameInNamespace(), first(result.getAttributes(), nameField)});
        }
        results.close();

        for (String[] group : groups) {
            Attributes read = ctx.getAttributes(new LdapName(group[0]), new String[] {memberField});
            List<String> members = all(read, memberField);
            emit("group", group[0], group[1], Integer.toString(members.size()));
            for (String member : members) {
                emit("member", group[1], member);
            }
        }
    }

    /** First print: one user by a username typed in another case. */
    private void lookUp(LdapContext ctx) throws NamingException {
        for (SearchResult result : findUsers(ctx, setting("lookup.name"))) {
            emitUser("lookup", setting("lookup.name"), result);
        }
    }

    /** Login: find the user's DN with the service account, then bind as it. */
    private void logIn(LdapContext service) throws NamingException {
        List<SearchResult> found = findUsers(service, setting("login.name"));
        emit("login", "found", Integer.toString(found.size()));
        String dn = found.get(0).getNameInNamespace();
        String password = setting("login.password");
        emit("login", "right", bind(dn, password));
        emit("login", "wrong", bind(dn, password + "x"));
        emit("login", "empty", bind(dn, ""));
        for (String name : numbered("bind.name")) {
            emit("login", name, bind(name, password));
        }
    }

    /** Group rules: the groups of one user, with the group search and a name or DN. */
    private void findGroupsOfUser(LdapContext ctx) throws NamingException {
        List<String> searches = new ArrayList<>();
        searches.add(setting("group.search"));
        searches.addAll(numbered("group.search.extra"));
        for (String search : searches) {
            for (String value : numbered("member.value")) {
                NamingEnumeration<SearchResult> results = ctx.search(
                        base, search, new Object[] {value}, subtree(new String[] {setting("group.name.field")}));
                while (results.hasMore()) {
                    emit("groupsof", search, value, first(results.next().getAttributes(), setting("group.name.field")));
                }
                results.close();
            }
        }
    }

    private List<SearchResult> findUsers(LdapContext ctx, String name) throws NamingException {
        // JNDI fills {0} from the arguments, escaping the value (RFC 4515).
        NamingEnumeration<SearchResult> results =
                ctx.search(base, setting("user.search"), new Object[] {name}, subtree(userFields()));
        List<SearchResult> found = new ArrayList<>();
        while (results.hasMore()) {
            found.add(results.next());
        }
        results.close();
        return found;
    }

    /** "ok", "error <result code>", or the exception's class for any other failure. */
    private String bind(String principal, String password) {
        try {
            connect(principal, password).close();
            return "ok";
        } catch (AuthenticationException e) {
            return "error " + resultCode(e);
        } catch (NamingException e) {
            return "error " + resultCode(e) + " " + e.getClass().getSimpleName();
        }
    }

    private static String resultCode(NamingException e) {
        Matcher m = RESULT_CODE.matcher(String.valueOf(e.getMessage()));
        return m.find() ? m.group(1) : "none";
    }

    private static byte[] responseCookie(LdapContext ctx) throws NamingException {
        Control[] controls = ctx.getResponseControls();
        if (controls != null) {
            for (Control control : controls) {
                if (control instanceof PagedResultsResponseControl) {
                    return ((PagedResultsResponseControl) control).getCookie();
                }
            }
        }
        return null;
    }

    private void emitUser(String type, String label, SearchResult result) throws NamingException {
        List<String> fields = new ArrayList<>();
        fields.add(type);
        fields.add(label);
        fields.add(result.getNameInNamespace());
        for (String field : userFields()) {
            fields.add(first(result.getAttributes(), field));
        }
        emit(fields.toArray(new String[0]));
    }

    private String[] userFields() {
        return setting("user.fields").split(",");
    }

    private static SearchControls subtree(String[] attributes) {
        SearchControls controls = new SearchControls();
        controls.setSearchScope(SearchControls.SUBTREE_SCOPE);
        controls.setReturningAttributes(attributes);
        return controls;
    }

    private static String first(Attributes attributes, String name) throws NamingException {
        List<String> values = all(attributes, name);
        return values.isEmpty() ? "" : values.get(0);
    }

    private static List<String> all(Attributes attributes, String name) throws NamingException {
        List<String> values = new ArrayList<>();
        Attribute attribute = attributes.get(name);
        if (attribute != null) {
            NamingEnumeration<?> each = attribute.getAll();
            while (each.hasMore()) {
                values.add(String.valueOf(each.next()));
            }
        }
        return values;
    }

    private List<String> numbered(String prefix) {
        List<String> values = new ArrayList<>();
        for (int i = 1; settings.getProperty(prefix + "." + i) != null; i++) {
            values.add(settings.getProperty(prefix + "." + i));
        }
        return values;
    }

    private String setting(String key) {
        String value = settings.getProperty(key);
        if (value == null) {
            throw new IllegalArgumentException("missing setting " + key);
        }
        return value;
    }

    private void emit(String... fields) {
        StringBuilder line = new StringBuilder();
        for (int i = 0; i < fields.length; i++) {
            if (i > 0) {
                line.append('\t');
            }
            line.append(fields[i].replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n"));
        }
        out.print(line.append('\n'));
    }
}
