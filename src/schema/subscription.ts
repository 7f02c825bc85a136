/**
 * Graph's `microsoft.graph.subscription` as Triage serves it for change notifications
 * (docs/notifications.md): the shape of the /subscriptions answers and of a create or renew body.
 */
import { Type } from "@sinclair/typebox";

const nullableString = (description: string) => Type.Union([Type.String(), Type.Null()], { description });

export const SubscriptionSchema = Type.Object(
  {
    id: Type.String({ description: "The subscription's id (read-only)." }),
    resource: Type.String({
      description: "security/incidents, security/alerts_v2, either with ?$filter=…, or one incident or alert by id (security/incidents/{id}).",
    }),
    applicationId: Type.String({ description: "The app that created the subscription (read-only)." }),
    changeType: Type.String({ description: "created, updated, or both comma-separated." }),
    clientState: nullableString("Echoed in every notification (at most 128 characters); left out of listings, as Graph does."),
    notificationUrl: Type.String({ description: "Where notifications are POSTed; validated by the handshake when the subscription is created." }),
    notificationQueryOptions: Type.Null(),
    lifecycleNotificationUrl: nullableString("Where lifecycle notifications go; validated by the handshake too."),
    expirationDateTime: Type.String({ format: "date-time", description: "At most 43,200 minutes ahead; renew with PATCH." }),
    creatorId: Type.String({ description: "The app's or the signed-in user's id (read-only)." }),
    includeResourceData: Type.Boolean({ description: "Rich notifications: each notification carries the entity, encrypted for encryptionCertificate." }),
    latestSupportedTlsVersion: nullableString("v1_2 or v1_3."),
    encryptionCertificate: nullableString(
      "With includeResourceData: the receiver's X.509 certificate (base64 DER, RSA public key) resource data is encrypted for.",
    ),
    encryptionCertificateId: nullableString("With includeResourceData: the receiver's id for that certificate, sent back in each encryptedContent."),
    notificationUrlAppId: Type.Null(),
  },
  { description: "A change-notification subscription (microsoft.graph.subscription)." },
);
