# Tunnus — deutscher Katalog. Jeder Schlüssel des englischen Katalogs muss
# hier vorhanden sein (ein Test prüft das). Platzhalter ({ $name }) nicht ändern.

product-name = Tunnus
lang-name = Deutsch

## Seitenlayout
nav-sign-in = Anmelden
nav-create-account = Konto erstellen
nav-sign-out = Abmelden
nav-signed-in-as = Angemeldet als { $email }
footer-terms = Nutzungsbedingungen
footer-privacy = Datenschutzerklärung
skip-to-content = Zum Inhalt springen

## Allgemein
sign-in = Anmelden
email = E-Mail
password = Passwort
given-name = Vorname
family-name = Nachname
country = Land
choose-country = Wählen Sie Ihr Land
continue = Weiter
back-to-sign-in = Zurück zur Anmeldung
form-has-problems = Bitte korrigieren Sie die markierten Felder.
required = erforderlich

## Anmeldung
sign-in-title = Bei Ihrem Tunnus-Konto anmelden
sign-in-intro = Ein Konto für alle Dienste.
forgot-password-link = Passwort vergessen?
no-account = Noch kein Konto?
create-new-account = Neues Konto erstellen
sign-in-wrong = Die E-Mail-Adresse oder das Passwort ist nicht korrekt.
sign-in-wrong-or-unverified = Die E-Mail-Adresse oder das Passwort ist nicht korrekt, oder das Konto wurde noch nicht bestätigt. Wenn Sie vor Kurzem ein Konto erstellt haben, öffnen Sie den Link in der E-Mail, die wir Ihnen gesendet haben.
sign-in-unverified = Dieses Konto wurde noch nicht bestätigt. Öffnen Sie den Link in der E-Mail, die wir Ihnen gesendet haben, um Ihr Passwort festzulegen.
sign-in-disabled = Dieses Konto wurde deaktiviert. Wenden Sie sich an den Support.
sign-in-no-password = Für dieses Konto wurde noch kein Passwort festgelegt. Verwenden Sie „Passwort vergessen?“, um eines festzulegen.
resend-link = Link erneut senden
resend-sent = Falls das Konto noch auf die Bestätigung wartet, haben wir einen neuen Link an { $email } gesendet.
signed-in-title = Sie sind angemeldet
signed-in-intro = Angemeldet als { $name } ({ $email }).

## Registrierung
sign-up-title = Erstellen Sie Ihr Tunnus-Konto
sign-up-intro = Wir senden Ihnen eine E-Mail mit einem Link, über den Sie Ihr Passwort festlegen. Der Link bestätigt zugleich Ihre E-Mail-Adresse.
accept-terms = Ich akzeptiere die <a href="{ $url }">Nutzungsbedingungen</a>
accept-privacy = Ich akzeptiere die <a href="{ $url }">Datenschutzerklärung</a>
create-account = Konto erstellen
check-email-title = Prüfen Sie Ihr E-Mail-Postfach
check-email-body = Wir haben einen Link an { $email } gesendet. Öffnen Sie ihn, um Ihr Passwort festzulegen und die Erstellung Ihres Kontos abzuschließen. Der Link ist { $hours } Stunden gültig.
already-registered = Für diese E-Mail-Adresse gibt es bereits ein Konto. Melden Sie sich an oder setzen Sie Ihr Passwort zurück, falls Sie es vergessen haben.

## Fehler in Feldern
email-empty = Geben Sie Ihre E-Mail-Adresse ein.
email-too-long = Die E-Mail-Adresse ist zu lang.
email-shape = Geben Sie eine E-Mail-Adresse im Format name@example.com ein.
email-local-part = Der Teil vor dem @ enthält unzulässige Zeichen.
email-domain = Der Teil nach dem @ ist keine gültige Domain.
given-name-missing = Geben Sie Ihren Vornamen ein.
family-name-missing = Geben Sie Ihren Nachnamen ein.
name-too-long = Namen dürfen höchstens 100 Zeichen lang sein.
name-control-characters = Namen dürfen keine Steuerzeichen enthalten.
country-unknown = Wählen Sie Ihr Land aus der Liste aus.
terms-not-accepted = Sie müssen die Nutzungsbedingungen akzeptieren.
privacy-not-accepted = Sie müssen die Datenschutzerklärung akzeptieren.

## Passwörter
set-password-title = Passwort festlegen
set-password-intro = Wählen Sie ein Passwort für { $email }.
new-password = Neues Passwort
confirm-password = Passwort wiederholen
save-password = Passwort speichern
password-rules-heading = Anforderungen an Ihr Passwort
password-min-length = mindestens { $min } Zeichen lang
password-max-length = höchstens { $max } Zeichen lang
password-digit = mindestens eine Ziffer (0-9)
password-mixed-case = sowohl Klein- als auch Großbuchstaben (a-z, A-Z)
password-special = mindestens ein Sonderzeichen: { $chars }
password-allowed-characters = nur die Buchstaben a-z und A-Z, Ziffern und die Sonderzeichen { $chars }
password-not-common = kein häufig verwendetes Passwort
password-not-email = ohne den Teil Ihrer E-Mail-Adresse vor dem @
password-problems = Das Passwort erfüllt diese Anforderungen nicht:
password-too-short = Es ist kürzer als { $min } Zeichen.
password-too-long = Es ist länger als { $max } Zeichen.
password-missing-digit = Es enthält keine Ziffer (0-9).
password-missing-lowercase = Es enthält keinen Kleinbuchstaben (a-z).
password-missing-uppercase = Es enthält keinen Großbuchstaben (A-Z).
password-missing-special = Es enthält kein Sonderzeichen ({ $chars }).
password-forbidden-character = Das Zeichen „{ $char }“ ist nicht zulässig.
password-common = Es ist zu gebräuchlich; wählen Sie etwas weniger Vorhersehbares.
password-contains-email = Es enthält Ihre E-Mail-Adresse.
password-mismatch = Die beiden Passwörter stimmen nicht überein.
password-saved-title = Ihr Passwort wurde gespeichert
password-saved-body = Sie sind jetzt angemeldet.

## Links
link-invalid-title = Dieser Link kann nicht verwendet werden
link-unknown = Der Link ist ungültig. Prüfen Sie, ob Sie die vollständige Adresse aus der E-Mail kopiert haben.
link-expired = Der Link ist abgelaufen. Fordern Sie unten einen neuen an.
link-used = Der Link wurde bereits verwendet. Jeder Link funktioniert nur einmal.
request-new-link = Neuen Link anfordern

## Passwort vergessen
forgot-title = Passwort vergessen?
forgot-intro = Geben Sie Ihre E-Mail-Adresse ein. Wir senden Ihnen dann einen Link, über den Sie ein neues Passwort festlegen können.
send-link = Link senden
forgot-unknown = Leider konnten wir diesen Benutzer nicht erkennen. Bitte geben Sie eine gültige E-Mail-Adresse ein.
forgot-sent = Wir haben einen Link an { $email } gesendet. Öffnen Sie ihn, um ein neues Passwort festzulegen.
forgot-sent-generic = Falls für { $email } ein Konto existiert, haben wir an diese Adresse einen Link zum Festlegen eines neuen Passworts gesendet.

## Abmelden
sign-out-title = Abmelden
sign-out-question = Möchten Sie sich von Tunnus abmelden?
signed-out-title = Sie sind abgemeldet
signed-out-body = Sie wurden von Tunnus abgemeldet.

## Fehler
error-title = Etwas ist schiefgelaufen
error-request-id = Referenz: { $id }
error-bad-request = Die Anfrage konnte nicht verarbeitet werden. Gehen Sie zurück und versuchen Sie es erneut.
error-too-large = Die gesendeten Daten sind zu groß.
error-csrf = Dieses Formular ist abgelaufen oder wurde nicht von dieser Website gesendet. Gehen Sie zurück, laden Sie die Seite neu und versuchen Sie es erneut.
error-throttled = Zu viele Versuche. Warten Sie einen Moment und versuchen Sie es erneut.
error-not-found = Diese Seite existiert nicht.
error-unavailable = Der Dienst ist vorübergehend nicht verfügbar. Versuchen Sie es in Kürze erneut.
error-internal = Ein unerwarteter Fehler ist aufgetreten. Er wurde protokolliert.

## Rechtliches
terms-title = Nutzungsbedingungen
privacy-title = Datenschutzerklärung
legal-version = Version { $version }
terms-body = Dies sind die Nutzungsbedingungen des Identitätsdienstes Tunnus. Betreiber ersetzen diesen Text durch ihren eigenen.
privacy-body = Tunnus speichert Ihren Namen, Ihr Land und Ihre E-Mail-Adresse, um Sie gegenüber den von Ihnen genutzten Diensten zu identifizieren. Betreiber ersetzen diesen Text durch ihren eigenen.

## Postausgang (Entwicklung)
outbox-title = Postausgang (Entwicklung)
outbox-intro = E-Mails, die Tunnus gesendet hat. Diese Seite gibt es nur, solange kein Mailserver konfiguriert ist.
outbox-empty = Noch keine E-Mails.
outbox-to = An
outbox-subject = Betreff
outbox-links = Links
outbox-status = Status
outbox-sent = gesendet
outbox-waiting = wartet

## E-Mails
email-greeting = Hallo { $name },
email-signature = — Tunnus
email-ignore = Wenn Sie dies nicht angefordert haben, können Sie diese E-Mail ignorieren.
email-valid-for = Der Link ist { $hours } Stunden gültig und funktioniert nur einmal.
email-set-password-subject = Legen Sie Ihr Tunnus-Passwort fest
email-set-password-body = Willkommen bei Tunnus. Öffnen Sie den folgenden Link, um Ihr Passwort festzulegen. Damit wird zugleich Ihre E-Mail-Adresse bestätigt.
email-set-password-button = Passwort festlegen
email-reset-password-subject = Setzen Sie Ihr Tunnus-Passwort zurück
email-reset-password-body = Wir haben eine Anfrage zum Zurücksetzen des Passworts Ihres Tunnus-Kontos erhalten. Öffnen Sie den folgenden Link, um ein neues Passwort zu wählen.
email-reset-password-button = Neues Passwort wählen
email-account-exists-subject = Ihr Tunnus-Konto
email-account-exists-body = Jemand hat versucht, mit dieser E-Mail-Adresse ein Tunnus-Konto zu erstellen, aber Sie haben bereits eines. Wenn Sie das waren, melden Sie sich an oder setzen Sie Ihr Passwort zurück, falls Sie es vergessen haben.
email-account-exists-button = Anmelden

## Autorisierung
authorize-error-title = Diese Anmeldeanfrage kann nicht verwendet werden
authorize-error-body = Die Anwendung, die Sie hierher weitergeleitet hat, hat eine Anfrage gestellt, die Tunnus nicht annehmen kann ({ $error }: { $description }). Kehren Sie zur Anwendung zurück und versuchen Sie es erneut.
authorize-expired-title = Diese Anmeldeanfrage ist abgelaufen
authorize-expired-body = Kehren Sie zur Anwendung zurück und starten Sie die Anmeldung erneut.
consent-title = Zugriff erlauben?
consent-intro = möchte:
consent-allow = Erlauben
consent-deny = Ablehnen
consent-revocable = Tunnus merkt sich Ihre Antwort für diese Anwendung und fragt erneut, wenn die Anwendung weitere Berechtigungen anfordert.
scope-openid = wissen, wer Sie sind (Ihre Tunnus-Kennung)
scope-profile = Ihren Namen und Ihre Sprache sehen
scope-email = Ihre E-Mail-Adresse sehen
scope-offline-access = Sie angemeldet halten und in Ihrer Abwesenheit für Sie handeln
logout-error-title = Diese Abmeldeanfrage kann nicht verwendet werden
scope-organization = Ihre Organisation, Ihre Rolle darin und Ihre Gruppen sehen
scope-entitlements = sehen, welche Lizenzen Sie besitzen
access-missing-title = Sie haben keinen Zugriff auf { $client }
access-missing-body = { $client } erfordert die Lizenz „{ $entitlement }“, über die Ihr Konto nicht verfügt.
access-missing-admins = Die Administratoren Ihrer Organisation können sie Ihnen zuweisen: { $admins }.
access-missing-no-admins = Sie sind nicht Mitglied einer Organisation, die diese Lizenz besitzt. Bitten Sie die Organisation, über die Sie Zugriff erhalten, Sie einzuladen.
access-missing-back = Zurück zu { $client }
email-invitation-subject = Einladung zur Organisation { $org } auf Tunnus
email-invitation-body = Sie wurden eingeladen, der Organisation { $org } beizutreten. Öffnen Sie den folgenden Link, melden Sie sich an (oder erstellen Sie Ihr Tunnus-Konto mit dieser E-Mail-Adresse) und nehmen Sie die Einladung an oder lehnen Sie sie ab. Die Einladung finden Sie auch auf Ihrer Profilseite.
email-invitation-button = Einladung ansehen
email-legacy-imported-subject = Ihr Konto ist jetzt eine Tunnus-Identität
email-legacy-imported-body = Ihr Konto aus unserem bisherigen Kontodienst wurde zu Tunnus, unserem neuen Anmeldedienst, umgezogen. Ihre Organisation und Ihre Lizenzen wurden übernommen. Öffnen Sie den folgenden Link, um Ihr Tunnus-Passwort festzulegen; damit wird auch Ihre E-Mail-Adresse bestätigt.
email-legacy-imported-button = Passwort festlegen
email-legacy-imported-password-subject = Ihr Konto ist jetzt eine Tunnus-Identität
email-legacy-imported-password-body = Ihr Konto aus unserem bisherigen Kontodienst wurde zu Tunnus, unserem neuen Anmeldedienst, umgezogen. Ihre Organisation, Ihre Lizenzen und Ihr Passwort wurden übernommen: Melden Sie sich mit Ihrer E-Mail-Adresse und Ihrem bisherigen Passwort an.
email-legacy-imported-password-button = Anmelden

## Profil und Einladungen
profile-title = Ihr Profil
profile-company = Unternehmen
profile-no-company = Kein Unternehmen
profile-external = Externes Mitglied von
profile-groups = Gruppen
profile-licenses = Lizenzen
profile-none = Keine
profile-invitations = Einladungen
profile-no-invitations = Keine offenen Einladungen.
profile-admin-tool = Admin-Tool öffnen
invitation-title = Einladung zu { $org }
invitation-internal = { $org } lädt Sie ein, als Mitarbeiterin oder Mitarbeiter beizutreten. { $org } wird dann in Ihrem Profil als Unternehmen angezeigt.
invitation-external = { $org } lädt Sie ein, als externes Mitglied beizutreten.
invitation-group = { $org } lädt Sie ein, der Gruppe „{ $group }“ beizutreten.
invitation-leave-warning = Sie sind bei { $current } beschäftigt. Wenn Sie annehmen, verlassen Sie { $current }.
invitation-confirm-leave = Mir ist bewusst, dass ich { $current } verlasse
invitation-accept = Annehmen
invitation-decline = Ablehnen
invitation-wrong-account = Diese Einladung wurde an { $invited } gesendet, Sie sind jedoch als { $current } angemeldet. Um darauf zu antworten, melden Sie sich ab und als { $invited } wieder an (oder erstellen Sie ein Konto mit dieser Adresse).
invitation-accepted = Sie sind { $org } beigetreten.
invitation-declined = Sie haben die Einladung zu { $org } abgelehnt.
invitation-unusable = Diese Einladung kann nicht mehr verwendet werden: { $status }.
invitation-status-expired = sie ist abgelaufen
invitation-status-accepted = sie wurde bereits angenommen
invitation-status-declined = sie wurde abgelehnt
invitation-status-revoked = sie wurde von der Organisation zurückgezogen
invitation-must-confirm = Bitte bestätigen Sie, dass Sie { $current } verlassen.

## Admin-Tool
admin-title = Admin-Tool
admin-organizations = Organisationen
admin-members = Mitglieder
admin-member-email = E-Mail
admin-member-kind = Mitgliedschaft
admin-member-role = Rolle
admin-invite = Personen einladen
admin-invite-help = Fügen Sie E-Mail-Adressen ein, getrennt durch Kommas oder Zeilenumbrüche.
admin-invite-kind = Einladen als
admin-invite-kind-internal = Mitarbeitende (interne Mitglieder)
admin-invite-kind-external = Externe Mitglieder
admin-invite-group = Gruppe (für Gruppeneinladungen)
admin-invite-send = Einladungen senden
admin-invite-report = Gesendete Einladungen
admin-invited = Eingeladen ({ $count })
admin-invalid = Ungültig ({ $count })
admin-duplicates = Doppelt angegeben ({ $count })
admin-already = Bereits Mitglieder ({ $count })
admin-pending = Bereits eingeladen ({ $count })
admin-forbidden = Sie sind kein Administrator dieser Organisation.
error-forbidden = Sie sind dazu nicht berechtigt.
admin-make-admin = Zum Admin machen
admin-make-member = Zum Mitglied machen
admin-remove = Entfernen
admin-pending-invitations = Ausstehende Einladungen
admin-revoke = Zurückziehen
profile-leave = Organisation verlassen
admin-search = Suchen
profile-language = Sprache
profile-save = Speichern
device-title = Auf einem Gerät anmelden
device-intro = Geben Sie den Code ein, den Ihr Gerät anzeigt.
device-code = Code
device-code-unknown = Dieser Code ist ungültig oder abgelaufen. Prüfen Sie den Code auf Ihrem Gerät.
device-approved = Fertig. Ihr Gerät ist jetzt angemeldet; Sie können diese Seite schließen.
device-denied = Das Gerät wurde nicht angemeldet.
admin-audit = Prüfprotokoll
admin-resend = Erneut senden
admin-new-group = Name der neuen Gruppe
admin-create-group = Gruppe anlegen
admin-clients = OIDC-Clients
admin-clients-help = Bei diesem Tunnus registrierte Dienste. Registrieren und ändern Sie sie mit dem Befehl tunnus client; Geheimnisse werden hier nie angezeigt.
admin-client-id = Client-ID
admin-client-name = Name
admin-client-kind = Art
admin-client-redirects = Weiterleitungs-URIs
admin-client-grants = Grant-Typen
admin-client-requires = Erfordert
admin-new-org = Name der neuen Organisation
admin-create-org = Organisation anlegen
admin-license-entitlement = Berechtigung (maintenance = Wartungsvertrag)
admin-license-until = Gültig bis (optional)
admin-license-external = Auch für externe Mitglieder
admin-license-grant = Lizenz erteilen
admin-license-revoke = Lizenz beenden
admin-license-bad-date = Das Enddatum muss ein Datum in der Zukunft sein (JJJJ-MM-TT).
error-org-name = Ein Organisationsname hat 1–100 Zeichen ohne Steuerzeichen.
error-org-exists = Eine Organisation mit diesem Namen gibt es bereits.
error-no-license = Die Organisation hat keine solche Lizenz.
profile-saved = Ihre Änderungen sind gespeichert.
profile-session-ended = Die Sitzung ist abgemeldet.
profile-details = Persönliche Angaben
job-title = Berufsbezeichnung
optional = (optional)
phone = Telefon
phone-hint = mit Ländervorwahl, z. B. +49 30 1234567
job-title-invalid = Eine Berufsbezeichnung hat höchstens 100 Zeichen und keine Steuerzeichen.
phone-invalid = Geben Sie die Telefonnummer mit Ländervorwahl an, z. B. +49 30 1234567 (7–15 Ziffern).
password-current = Ihr aktuelles Passwort
password-confirm-wrong = Das Passwort ist nicht richtig.
confirm-by-sign-in = Ihre Identität hat kein Passwort: Eine Anmeldung in den letzten { $minutes } Minuten bestätigt dies. Melden Sie sich erneut an mit:
confirm-sign-in-again = Ihre letzte Anmeldung liegt zu lange zurück, um dies zu bestätigen. Melden Sie sich erneut an und versuchen Sie es dann noch einmal.
email-change-title = E-Mail-Adresse ändern
email-change-help = Wir senden einen Bestätigungslink an die neue Adresse. Bis Sie ihm folgen, melden Sie sich weiter mit Ihrer aktuellen Adresse an.
email-change-new = Neue E-Mail-Adresse
email-change-send = Bestätigungslink senden
email-change-sent = Wir haben einen Bestätigungslink an { $email } gesendet. Ihre Adresse ändert sich, wenn Sie ihm folgen.
email-change-same = Das ist bereits Ihre Adresse.
email-change-taken = Diese Adresse gehört zu einer anderen Tunnus-Identität.
email-change-link-expired = Dieser Bestätigungslink ist abgelaufen. Fordern Sie auf Ihrer Profilseite einen neuen an.
email-change-link-used = Dieser Bestätigungslink wurde bereits verwendet.
email-change-link-unknown = Dieser Bestätigungslink ist ungültig. Fordern Sie auf Ihrer Profilseite einen neuen an.
email-change-other-account = Dieser Link gehört zu einer anderen Tunnus-Identität als der hier angemeldeten. Melden Sie sich zuerst ab und öffnen Sie den Link dann erneut.
email-change-confirm-help = Soll { $email } die E-Mail-Adresse werden, mit der Sie sich anmelden?
email-change-confirm = E-Mail-Adresse ändern
email-change-done = Ihre E-Mail-Adresse ist jetzt { $email }. Melden Sie sich ab jetzt damit an.
profile-sessions = Wo Sie angemeldet sind
profile-session-device = Browser
profile-session-ip = IP-Adresse
profile-session-last-seen = Zuletzt aktiv
profile-session-this = dieser Browser
profile-sign-out-everywhere = Überall abmelden
profile-your-data = Ihre Daten
profile-download-data = Meine Daten herunterladen (JSON)
delete-title = Mein Konto löschen
delete-help = Dadurch werden Ihre Identität und Ihre persönlichen Daten entfernt, Sie werden überall abgemeldet und der Zugang aller Dienste endet. Mitgliedschaften und Lizenzen entfallen ebenfalls. Dies kann nicht rückgängig gemacht werden.
delete-confirm = Ich verstehe, dass dies nicht rückgängig gemacht werden kann.
delete-button = Mein Konto löschen
delete-confirm-missing = Kreuzen Sie das Kästchen an, um zu bestätigen, dass Sie Ihr Konto löschen möchten.
delete-done-title = Ihr Konto ist gelöscht
delete-done-body = Ihre Tunnus-Identität und Ihre persönlichen Daten wurden entfernt, und Sie sind überall abgemeldet.
terms-accept-title = Aktualisierte Bedingungen
terms-accept-help = Wir haben neue Versionen der folgenden Dokumente veröffentlicht. Bitte lesen und akzeptieren Sie sie, um fortzufahren.
terms-accept-terms = Nutzungsbedingungen, Version { $version }
terms-accept-privacy = Datenschutzerklärung, Version { $version }
terms-accept-check = Ich habe diese Dokumente gelesen und akzeptiere sie.
terms-accept-button = Akzeptieren und fortfahren
terms-accept-missing = Kreuzen Sie das Kästchen an, um die Dokumente zu akzeptieren, oder schließen Sie diese Seite, um abzubrechen.
terms-accept-changed = Während diese Seite geöffnet war, wurde eine neuere Version veröffentlicht. Bitte sehen Sie sie sich an.
email-confirm-email-change-subject = Bestätigen Sie Ihre neue Tunnus-E-Mail-Adresse
email-confirm-email-change-body = Sie möchten sich ab jetzt mit dieser E-Mail-Adresse bei Tunnus anmelden. Folgen Sie dem Link unten, um sie zu bestätigen.
email-confirm-email-change-button = E-Mail-Adresse bestätigen
email-email-change-notice-subject = Ihre Tunnus-E-Mail-Adresse soll geändert werden
email-email-change-notice-body = Jemand, der bei Ihrer Tunnus-Identität angemeldet ist, hat eine Änderung ihrer E-Mail-Adresse beantragt. Die Änderung erfolgt nur, wenn dem an die neue Adresse gesendeten Link gefolgt wird. Wenn Sie das nicht waren, ändern Sie jetzt Ihr Passwort.
email-email-change-notice-button = Mein Passwort ändern
profile-session-unknown = ein unbekannter Browser

## Vorgelagerte Identitätsanbieter („Anmelden mit …")
sign-in-with = Mit { $provider } anmelden
sign-in-or = Oder mit einem Konto anmelden, das Sie schon haben:
upstream-error-title = Die Anmeldung hat nicht funktioniert
upstream-unknown = Diese Anmeldemöglichkeit gibt es nicht.
upstream-unreachable = Der andere Dienst ist gerade nicht erreichbar. Versuchen Sie es gleich noch einmal oder melden Sie sich mit E-Mail-Adresse und Passwort an.
upstream-bad-state = Diese Anmeldeanfrage ist unbekannt, abgelaufen oder wurde schon verwendet. Beginnen Sie erneut auf der Anmeldeseite.
upstream-refused = Der andere Dienst hat Sie nicht angemeldet (vielleicht haben Sie abgebrochen). Beginnen Sie erneut auf der Anmeldeseite.
upstream-invalid = Die Antwort des anderen Dienstes konnte nicht geprüft werden. Beginnen Sie erneut auf der Anmeldeseite.
upstream-unverified-email = Der andere Dienst hat Ihre E-Mail-Adresse nicht bestätigt, daher kann sie hier nicht zur Anmeldung dienen. Bestätigen Sie die Adresse dort oder erstellen Sie damit ein Tunnus-Konto.
upstream-linked-elsewhere = Dieses Konto ist bereits mit einer anderen Tunnus-Identität verknüpft.
upstream-prove-title = Gehört Ihnen diese Identität?
upstream-prove-intro = Zur Adresse { $email } gibt es bereits eine Tunnus-Identität. Um Ihre Anmeldung damit zu verknüpfen, weisen Sie nach, dass sie Ihnen gehört: Geben Sie ihr Passwort ein oder lassen Sie einen Bestätigungslink an diese Adresse senden.
upstream-prove-password = Mit meinem Passwort verknüpfen
upstream-prove-email = Bestätigungslink per E-Mail senden
upstream-prove-no-password = Diese Identität hat noch kein Passwort. Verwenden Sie stattdessen den Bestätigungslink per E-Mail.
upstream-proof-expired = Diese Bestätigung ist abgelaufen oder wurde schon verwendet. Beginnen Sie erneut auf der Anmeldeseite.
upstream-proof-sent = Wir haben einen Bestätigungslink an die Adresse gesendet. Öffnen Sie ihn innerhalb einer Stunde, um die Konten zu verknüpfen.
upstream-linked-title = Konten verknüpft
upstream-linked-body = Sie können sich jetzt mit { $provider } anmelden.
upstream-unlink-refused-title = Diese Verknüpfung kann nicht entfernt werden
upstream-unlink-refused-body = Sie ist Ihre einzige Möglichkeit, sich anzumelden. Legen Sie zuerst ein Passwort fest („Passwort vergessen?" auf der Anmeldeseite) oder verknüpfen Sie ein weiteres Konto.
back-to-profile = Zurück zum Profil
profile-linked = Verknüpfte Anmeldekonten
profile-link = { $provider } verknüpfen
profile-unlink = Verknüpfung lösen
profile-unlink-last = (Ihre einzige Anmeldemöglichkeit)
federated-refused-title = { $client } verlangt ein Tunnus-Passwort
federated-refused-body = Sie haben sich mit einem Konto eines anderen Dienstes angemeldet. { $client } akzeptiert nur Identitäten, die auch ein eigenes Tunnus-Passwort haben.
federated-refused-remedy = Legen Sie über „Passwort vergessen?" ein Passwort fest: Wir senden Ihnen einen Link. Danach funktioniert dieselbe Identität in jedem Dienst.
email-confirm-upstream-link-subject = Ihre { $org }-Anmeldung mit Tunnus verknüpfen
email-confirm-upstream-link-body = Jemand hat sich mit { $org } und dieser E-Mail-Adresse angemeldet und gebeten, dies mit Ihrer Tunnus-Identität zu verknüpfen. Öffnen Sie den Link unten, um es zu erlauben. Wenn Sie das nicht waren, ignorieren Sie diese E-Mail: Es ändert sich nichts.
email-confirm-upstream-link-button = Konten verknüpfen
