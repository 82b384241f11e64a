/** The core User schema, RFC 7643 §4.1, characteristics as in the §8.7.1 schema representation. */
import { attr, complex, multiValued } from "./common";
import type { SchemaDefinition } from "./types";

export const USER_SCHEMA_URN = "urn:ietf:params:scim:schemas:core:2.0:User";

const readOnly = { mutability: "readOnly" } as const;

export const USER_SCHEMA: SchemaDefinition = {
  id: USER_SCHEMA_URN,
  name: "User",
  description: "User Account",
  attributes: [
    // §4.1.1: unique per service provider and compared case-insensitively (caseExact false).
    attr("userName", "string", "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.", {
      required: true,
      uniqueness: "server",
    }),
    complex("name", "The components of the user's real name.", [
      attr("formatted", "string", "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
      attr("familyName", "string", "The family name of the User, or last name in most Western languages."),
      attr("givenName", "string", "The given name of the User, or first name in most Western languages."),
      attr("middleName", "string", "The middle name(s) of the User."),
      attr("honorificPrefix", "string", "The honorific prefix(es) of the User, or title in most Western languages."),
      attr("honorificSuffix", "string", "The honorific suffix(es) of the User, or suffix in most Western languages."),
    ]),
    attr("displayName", "string", "The name of the User, suitable for display to end-users."),
    attr("nickName", "string", "The casual way to address the user in real life."),
    attr("profileUrl", "reference", "A fully qualified URL pointing to a page representing the User's online profile.", {
      referenceTypes: ["external"],
    }),
    attr("title", "string", "The user's title, such as \"Vice President.\""),
    attr("userType", "string", "Used to identify the relationship between the organization and the user."),
    attr("preferredLanguage", "string", "Indicates the User's preferred written or spoken language (RFC 7231 Accept-Language format)."),
    attr("locale", "string", "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
    attr("timezone", "string", "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
    attr("active", "boolean", "A Boolean value indicating the User's administrative status."),
    // §4.1.1: never returned; this service also never stores it (no credential store).
    attr("password", "string", "The User's cleartext password. Never returned.", {
      mutability: "writeOnly",
      returned: "never",
    }),
    multiValued("emails", "Email addresses for the user.", { type: "string" }, ["work", "home", "other"]),
    multiValued("phoneNumbers", "Phone numbers for the User.", { type: "string" }, ["work", "home", "mobile", "fax", "pager", "other"]),
    multiValued("ims", "Instant messaging addresses for the User.", { type: "string" }, [
      "aim",
      "gtalk",
      "icq",
      "xmpp",
      "msn",
      "skype",
      "qq",
      "yahoo",
    ]),
    multiValued("photos", "URLs of photos of the User.", { type: "reference", referenceTypes: ["external"] }, ["photo", "thumbnail"]),
    complex(
      "addresses",
      "A physical mailing address for this User.",
      [
        attr("formatted", "string", "The full mailing address, formatted for display or use with a mailing label."),
        attr("streetAddress", "string", "The full street address component."),
        attr("locality", "string", "The city or locality component."),
        attr("region", "string", "The state or region component."),
        attr("postalCode", "string", "The zip code or postal code component."),
        attr("country", "string", "The country name component (ISO 3166-1 alpha-2)."),
        attr("type", "string", "A label indicating the address' function, e.g., 'work' or 'home'.", {
          canonicalValues: ["work", "home", "other"],
        }),
        // §4.1.2 lists primary for addresses although the §8.7.1 representation omits it.
        attr("primary", "boolean", "A Boolean value indicating the 'primary' or preferred address."),
      ],
      { multiValued: true },
    ),
    // §4.1.2: membership is managed through the Group resource, so this is read-only here.
    complex(
      "groups",
      "A list of groups to which the user belongs, either through direct membership or dynamic groups.",
      [
        attr("value", "string", "The identifier of the User's group.", readOnly),
        attr("$ref", "reference", "The URI of the corresponding 'Group' resource.", {
          ...readOnly,
          referenceTypes: ["User", "Group"],
        }),
        attr("display", "string", "A human-readable name, primarily used for display purposes.", readOnly),
        attr("type", "string", "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.", {
          ...readOnly,
          canonicalValues: ["direct", "indirect"],
        }),
      ],
      { multiValued: true, mutability: "readOnly" },
    ),
    multiValued("entitlements", "A list of entitlements for the User that represent a thing the User has.", { type: "string" }, []),
    multiValued("roles", "A list of roles for the User that collectively represent who the User is.", { type: "string" }, []),
    multiValued("x509Certificates", "A list of certificates issued to the User.", { type: "binary" }, []),
  ],
};
