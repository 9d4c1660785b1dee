# Tunnus — suomenkielinen käännös. Jokaisen englanninkielisen avaimen on
# oltava tässä (testi tarkistaa). Älä muuta paikkamerkkejä ({ $name }).

product-name = Tunnus
lang-name = Suomi

## Sivupohja
nav-sign-in = Kirjaudu sisään
nav-create-account = Luo tili
nav-sign-out = Kirjaudu ulos
nav-signed-in-as = Kirjautuneena: { $email }
footer-terms = Käyttöehdot
footer-privacy = Tietosuojaseloste
skip-to-content = Siirry sisältöön

## Yleiset
sign-in = Kirjaudu sisään
email = Sähköposti
password = Salasana
given-name = Etunimi
family-name = Sukunimi
country = Maa
choose-country = Valitse maasi
continue = Jatka
back-to-sign-in = Takaisin kirjautumiseen
form-has-problems = Korjaa korostetut kentät.
required = pakollinen

## Kirjautuminen
sign-in-title = Kirjaudu Tunnus-tilillesi
sign-in-intro = Yksi tili kaikkiin palveluihin.
forgot-password-link = Unohditko salasanasi?
no-account = Eikö sinulla ole vielä tiliä?
create-new-account = Luo uusi tili
sign-in-wrong = Sähköpostiosoite tai salasana on väärin.
sign-in-wrong-or-unverified = Sähköpostiosoite tai salasana on väärin, tai tiliä ei ole vielä vahvistettu. Jos loit tilin äskettäin, avaa linkki, jonka lähetimme sinulle sähköpostitse.
sign-in-unverified = Tätä tiliä ei ole vielä vahvistettu. Avaa sähköpostitse lähettämämme linkki ja aseta salasanasi.
sign-in-disabled = Tämä tili on poistettu käytöstä. Ota yhteyttä tukeen.
sign-in-no-password = Tälle tilille ei ole vielä asetettu salasanaa. Aseta salasana valitsemalla ”Unohditko salasanasi?”.
resend-link = Lähetä linkki uudelleen
resend-sent = Jos tili odottaa yhä vahvistusta, lähetimme uuden linkin osoitteeseen { $email }.
signed-in-title = Olet kirjautunut sisään
signed-in-intro = Olet kirjautunut käyttäjänä { $name } ({ $email }).

## Rekisteröityminen
sign-up-title = Luo Tunnus-tili
sign-up-intro = Lähetämme sinulle sähköpostiviestin, jossa on linkki salasanan asettamiseen. Linkki vahvistaa samalla sähköpostiosoitteesi.
accept-terms = Hyväksyn <a href="{ $url }">käyttöehdot</a>
accept-privacy = Hyväksyn <a href="{ $url }">tietosuojaselosteen</a>
create-account = Luo tili
check-email-title = Tarkista sähköpostisi
check-email-body = Lähetimme linkin osoitteeseen { $email }. Avaa se, aseta salasanasi ja viimeistele tilin luominen. Linkki on voimassa { $hours } tuntia.
already-registered = Tällä sähköpostiosoitteella on jo tili. Kirjaudu sisään tai aseta uusi salasana, jos olet unohtanut sen.

## Kenttien virheet
email-empty = Anna sähköpostiosoitteesi.
email-too-long = Sähköpostiosoite on liian pitkä.
email-shape = Anna sähköpostiosoite muodossa nimi@example.com.
email-local-part = @-merkkiä edeltävässä osassa on merkkejä, jotka eivät ole sallittuja.
email-domain = @-merkin jälkeinen osa ei ole kelvollinen verkkotunnus.
given-name-missing = Anna etunimesi.
family-name-missing = Anna sukunimesi.
name-too-long = Nimissä voi olla enintään 100 merkkiä.
name-control-characters = Nimissä ei voi olla ohjausmerkkejä.
country-unknown = Valitse maasi luettelosta.
terms-not-accepted = Sinun on hyväksyttävä käyttöehdot.
privacy-not-accepted = Sinun on hyväksyttävä tietosuojaseloste.

## Salasanat
set-password-title = Aseta salasana
set-password-intro = Valitse salasana tilille { $email }.
new-password = Uusi salasana
confirm-password = Toista salasana
save-password = Tallenna salasana
password-rules-heading = Salasanan tulee
password-min-length = olla vähintään { $min } merkkiä pitkä
password-max-length = olla enintään { $max } merkkiä pitkä
password-digit = sisältää vähintään yksi numero (0-9)
password-mixed-case = sisältää sekä pieniä että isoja kirjaimia (a-z, A-Z)
password-special = sisältää jokin erikoismerkeistä { $chars }
password-allowed-characters = sisältää vain kirjaimia a-z ja A-Z, numeroita ja erikoismerkkejä { $chars }
password-not-common = olla jokin muu kuin yleisesti käytetty salasana
password-not-email = olla sisältämättä sähköpostiosoitteesi @-merkkiä edeltävää osaa
password-problems = Salasana ei täytä näitä vaatimuksia:
password-too-short = Se on lyhyempi kuin { $min } merkkiä.
password-too-long = Se on pidempi kuin { $max } merkkiä.
password-missing-digit = Siinä ei ole numeroa (0-9).
password-missing-lowercase = Siinä ei ole pientä kirjainta (a-z).
password-missing-uppercase = Siinä ei ole isoa kirjainta (A-Z).
password-missing-special = Siinä ei ole erikoismerkkiä ({ $chars }).
password-forbidden-character = Merkki ”{ $char }” ei ole sallittu.
password-common = Se on liian yleinen; valitse jokin vaikeammin arvattava.
password-contains-email = Se sisältää sähköpostiosoitteesi.
password-mismatch = Salasanat eivät ole samat.
password-saved-title = Salasanasi on tallennettu
password-saved-body = Olet nyt kirjautunut sisään.

## Linkit
link-invalid-title = Tätä linkkiä ei voi käyttää
link-unknown = Linkki ei ole kelvollinen. Tarkista, että kopioit koko osoitteen sähköpostiviestistä.
link-expired = Linkki on vanhentunut. Pyydä uusi linkki alta.
link-used = Linkki on jo käytetty. Kutakin linkkiä voi käyttää vain kerran.
request-new-link = Pyydä uusi linkki

## Unohtunut salasana
forgot-title = Unohditko salasanasi?
forgot-intro = Anna sähköpostiosoitteesi, niin lähetämme sinulle linkin uuden salasanan asettamiseen.
send-link = Lähetä linkki
forgot-unknown = Valitettavasti emme tunnistaneet tätä käyttäjää. Anna kelvollinen sähköpostiosoite.
forgot-sent = Lähetimme linkin osoitteeseen { $email }. Avaa se ja aseta uusi salasana.
forgot-sent-generic = Jos osoitteella { $email } on tili, lähetimme tähän osoitteeseen linkin uuden salasanan asettamiseen.

## Uloskirjautuminen
sign-out-title = Kirjaudu ulos
sign-out-question = Haluatko kirjautua ulos Tunnus-palvelusta?
signed-out-title = Olet kirjautunut ulos
signed-out-body = Olet kirjautunut ulos Tunnus-palvelusta.

## Virheet
error-title = Jokin meni vikaan
error-request-id = Viite: { $id }
error-bad-request = Pyyntöä ei ymmärretty. Palaa takaisin ja yritä uudelleen.
error-too-large = Lähettämäsi tiedot ovat liian suuret.
error-csrf = Lomake on vanhentunut, tai sitä ei lähetetty tältä sivustolta. Palaa takaisin, lataa sivu uudelleen ja yritä uudelleen.
error-throttled = Liian monta yritystä. Odota hetki ja yritä uudelleen.
error-not-found = Sivua ei ole olemassa.
error-unavailable = Palvelu ei ole tilapäisesti käytettävissä. Yritä hetken kuluttua uudelleen.
error-internal = Tapahtui odottamaton virhe. Virhe on kirjattu lokiin.

## Juridiset tiedot
terms-title = Käyttöehdot
privacy-title = Tietosuojaseloste
legal-version = Versio { $version }
terms-body = Nämä ovat Tunnus-tunnistuspalvelun käyttöehdot. Palvelun ylläpitäjä korvaa tämän tekstin omallaan.
privacy-body = Tunnus tallentaa nimesi, maasi ja sähköpostiosoitteesi, jotta se voi tunnistaa sinut käyttämillesi palveluille. Palvelun ylläpitäjä korvaa tämän tekstin omallaan.

## Lähtevät viestit (kehityskäyttö)
outbox-title = Lähtevät viestit (kehitys)
outbox-intro = Tunnus-palvelun lähettämät sähköpostiviestit. Tämä sivu on käytössä vain niin kauan kuin sähköpostipalvelinta ei ole määritetty.
outbox-empty = Ei vielä sähköpostiviestejä.
outbox-to = Vastaanottaja
outbox-subject = Aihe
outbox-links = Linkit
outbox-status = Tila
outbox-sent = lähetetty
outbox-waiting = odottaa

## Sähköpostit
email-greeting = Hei { $name },
email-signature = — Tunnus
email-ignore = Jos et pyytänyt tätä, voit jättää tämän viestin huomiotta.
email-valid-for = Linkki on voimassa { $hours } tuntia, ja sitä voi käyttää vain kerran.
email-set-password-subject = Aseta Tunnus-salasanasi
email-set-password-body = Tervetuloa Tunnus-palveluun. Aseta salasanasi avaamalla alla oleva linkki. Samalla sähköpostiosoitteesi vahvistetaan.
email-set-password-button = Aseta salasana
email-reset-password-subject = Aseta uusi Tunnus-salasana
email-reset-password-body = Saimme pyynnön Tunnus-tilisi salasanan vaihtamisesta. Valitse uusi salasana avaamalla alla oleva linkki.
email-reset-password-button = Valitse uusi salasana
email-account-exists-subject = Tunnus-tilisi
email-account-exists-body = Joku yritti luoda Tunnus-tilin tällä sähköpostiosoitteella, mutta sinulla on jo tili. Jos se olit sinä, kirjaudu sisään tai aseta uusi salasana, jos olet unohtanut sen.
email-account-exists-button = Kirjaudu sisään

## Valtuutus
authorize-error-title = Tätä kirjautumispyyntöä ei voi käyttää
authorize-error-body = Sovellus, josta tulit, lähetti pyynnön, jota Tunnus ei voi hyväksyä ({ $error }: { $description }). Palaa sovellukseen ja yritä uudelleen.
authorize-expired-title = Tämä kirjautumispyyntö on vanhentunut
authorize-expired-body = Palaa sovellukseen ja aloita kirjautuminen alusta.
consent-title = Annetaanko käyttöoikeus?
consent-intro = haluaa:
consent-allow = Salli
consent-deny = Hylkää
consent-revocable = Tunnus muistaa vastauksesi tämän sovelluksen osalta ja kysyy uudelleen, jos sovellus pyytää lisää oikeuksia.
scope-openid = tietää, kuka olet (Tunnus-tunnisteesi)
scope-profile = nähdä nimesi ja kielesi
scope-email = nähdä sähköpostiosoitteesi
scope-offline-access = pitää sinut kirjautuneena ja toimia puolestasi, kun et ole paikalla
logout-error-title = Tätä uloskirjautumispyyntöä ei voi käyttää
scope-organization = nähdä organisaatiosi, roolisi siinä ja ryhmäsi
scope-entitlements = nähdä, mitkä lisenssit sinulla on
access-missing-title = Sinulla ei ole käyttöoikeutta sovellukseen { $client }
access-missing-body = { $client } edellyttää lisenssiä ”{ $entitlement }”, jota tililläsi ei ole.
access-missing-admins = Organisaatiosi ylläpitäjät voivat myöntää sen: { $admins }.
access-missing-no-admins = Et ole jäsenenä missään organisaatiossa, jolla on tämä lisenssi. Pyydä organisaatiota, jonka kautta käytät palvelua, kutsumaan sinut.
access-missing-back = Palaa sovellukseen { $client }
email-invitation-subject = Kutsu organisaatioon { $org } Tunnus-palvelussa
email-invitation-body = Sinut on kutsuttu liittymään organisaatioon { $org }. Avaa alla oleva linkki, kirjaudu sisään (tai luo Tunnus-tili tällä sähköpostiosoitteella) ja hyväksy tai hylkää kutsu. Kutsu odottaa sinua myös profiilisivullasi.
email-invitation-button = Näytä kutsu
email-legacy-imported-subject = Tilisi on nyt Tunnus-tunnus
email-legacy-imported-body = Tilisi aiemmasta tilipalvelustamme on siirretty Tunnukseen, uuteen kirjautumispalveluumme. Organisaatiosi ja lisenssisi siirtyivät mukana. Avaa alla oleva linkki ja aseta Tunnus-salasanasi; samalla sähköpostiosoitteesi vahvistetaan.
email-legacy-imported-button = Aseta salasana
email-legacy-imported-password-subject = Tilisi on nyt Tunnus-tunnus
email-legacy-imported-password-body = Tilisi aiemmasta tilipalvelustamme on siirretty Tunnukseen, uuteen kirjautumispalveluumme. Organisaatiosi, lisenssisi ja salasanasi siirtyivät mukana: kirjaudu sisään sähköpostiosoitteellasi ja nykyisellä salasanallasi.
email-legacy-imported-password-button = Kirjaudu sisään

## Profiili ja kutsut
profile-title = Profiilisi
profile-company = Yritys
profile-no-company = Ei yritystä
profile-external = Ulkoinen jäsen organisaatioissa
profile-groups = Ryhmät
profile-licenses = Lisenssit
profile-none = Ei yhtään
profile-invitations = Kutsut
profile-no-invitations = Ei avoimia kutsuja.
profile-admin-tool = Avaa hallintatyökalu
invitation-title = Kutsu organisaatioon { $org }
invitation-internal = { $org } kutsuu sinut liittymään työntekijäksi. Profiilisi yritykseksi tulee { $org }.
invitation-external = { $org } kutsuu sinut liittymään ulkoiseksi jäseneksi.
invitation-group = { $org } kutsuu sinut liittymään ryhmäänsä ”{ $group }”.
invitation-leave-warning = Olet organisaation { $current } työntekijä. Jos hyväksyt kutsun, eroat organisaatiosta { $current }.
invitation-confirm-leave = Ymmärrän, että eroan organisaatiosta { $current }
invitation-accept = Hyväksy
invitation-decline = Hylkää
invitation-wrong-account = Tämä kutsu lähetettiin osoitteeseen { $invited }, mutta olet kirjautunut käyttäjänä { $current }. Jos haluat vastata kutsuun, kirjaudu ulos ja kirjaudu sisään käyttäjänä { $invited } (tai luo tili tällä osoitteella).
invitation-accepted = Liityit organisaatioon { $org }.
invitation-declined = Hylkäsit kutsun organisaatioon { $org }.
invitation-unusable = Tätä kutsua ei voi enää käyttää: { $status }.
invitation-status-expired = se on vanhentunut
invitation-status-accepted = se on jo hyväksytty
invitation-status-declined = se on hylätty
invitation-status-revoked = organisaatio on perunut sen
invitation-must-confirm = Vahvista, että eroat organisaatiosta { $current }.

## Hallintatyökalu
admin-title = Hallintatyökalu
admin-organizations = Organisaatiot
admin-members = Jäsenet
admin-member-email = Sähköposti
admin-member-kind = Jäsenyys
admin-member-role = Rooli
admin-invite = Kutsu henkilöitä
admin-invite-help = Liitä sähköpostiosoitteet pilkuilla tai rivinvaihdoilla erotettuina.
admin-invite-kind = Kutsun tyyppi
admin-invite-kind-internal = Työntekijät (sisäiset jäsenet)
admin-invite-kind-external = Ulkoiset jäsenet
admin-invite-group = Ryhmä (ryhmäkutsuja varten)
admin-invite-send = Lähetä kutsut
admin-invite-report = Lähetetyt kutsut
admin-invited = Kutsuttu ({ $count })
admin-invalid = Virheelliset ({ $count })
admin-duplicates = Annettu kahdesti ({ $count })
admin-already = Jo jäseniä ({ $count })
admin-pending = Jo kutsuttu ({ $count })
admin-forbidden = Et ole tämän organisaation ylläpitäjä.
error-forbidden = Sinulla ei ole oikeutta tehdä tätä.
admin-make-admin = Tee ylläpitäjäksi
admin-make-member = Muuta tavalliseksi jäseneksi
admin-remove = Poista
admin-pending-invitations = Odottavat kutsut
admin-revoke = Peru
profile-leave = Eroa organisaatiosta
admin-search = Hae
profile-language = Kieli
profile-save = Tallenna
device-title = Kirjaudu laitteella
device-intro = Anna laitteesi näyttämä koodi.
device-code = Koodi
device-code-unknown = Koodi ei kelpaa tai se on vanhentunut. Tarkista laitteesi näyttämä koodi.
device-approved = Valmis. Laitteesi on nyt kirjautunut sisään; voit sulkea tämän sivun.
device-denied = Laitetta ei kirjattu sisään.
admin-audit = Tapahtumaloki
admin-resend = Lähetä uudelleen
admin-new-group = Uuden ryhmän nimi
admin-create-group = Luo ryhmä
admin-clients = OIDC-asiakkaat
admin-clients-help = Tähän Tunnukseen rekisteröidyt palvelut. Rekisteröi ja muuta niitä tunnus client -komennolla; salaisuuksia ei koskaan näytetä täällä.
admin-client-id = Asiakastunniste
admin-client-name = Nimi
admin-client-kind = Tyyppi
admin-client-redirects = Paluuosoitteet
admin-client-grants = Myöntötavat
admin-client-requires = Vaatii
admin-new-org = Uuden organisaation nimi
admin-create-org = Luo organisaatio
admin-license-entitlement = Oikeus (maintenance = ylläpitosopimus)
admin-license-until = Voimassa asti (valinnainen)
admin-license-external = Myös ulkoisille jäsenille
admin-license-grant = Myönnä lisenssi
admin-license-revoke = Päätä lisenssi
admin-license-bad-date = Päättymispäivän on oltava tuleva päivä (VVVV-KK-PP).
error-org-name = Organisaation nimessä on 1–100 merkkiä eikä ohjausmerkkejä.
error-org-exists = Samanniminen organisaatio on jo olemassa.
error-no-license = Organisaatiolla ei ole tällaista lisenssiä.
profile-saved = Muutoksesi on tallennettu.
profile-session-ended = Istunto on kirjattu ulos.
profile-details = Henkilötiedot
job-title = Tehtävänimike
optional = (vapaaehtoinen)
phone = Puhelin
phone-hint = maatunnuksen kanssa, esim. +358 40 123 4567
job-title-invalid = Tehtävänimikkeessä voi olla enintään 100 merkkiä eikä ohjausmerkkejä.
phone-invalid = Anna puhelinnumero maatunnuksen kanssa, esim. +358 40 123 4567 (7–15 numeroa).
password-current = Nykyinen salasanasi
password-confirm-wrong = Salasana ei ole oikein.
confirm-by-sign-in = Identiteetilläsi ei ole salasanaa: enintään { $minutes } minuutin takainen kirjautuminen vahvistaa tämän. Kirjaudu uudelleen palvelulla:
confirm-sign-in-again = Edellisestä kirjautumisestasi on liian kauan, jotta se vahvistaisi tämän. Kirjaudu uudelleen ja yritä sitten uudestaan.
email-change-title = Vaihda sähköpostiosoite
email-change-help = Lähetämme vahvistuslinkin uuteen osoitteeseen. Kunnes avaat sen, kirjaudut edelleen nykyisellä osoitteellasi.
email-change-new = Uusi sähköpostiosoite
email-change-send = Lähetä vahvistuslinkki
email-change-sent = Lähetimme vahvistuslinkin osoitteeseen { $email }. Osoitteesi vaihtuu, kun avaat linkin.
email-change-same = Se on jo osoitteesi.
email-change-taken = Osoite kuuluu toiselle Tunnus-identiteetille.
email-change-link-expired = Tämä vahvistuslinkki on vanhentunut. Pyydä uusi profiilisivultasi.
email-change-link-used = Tämä vahvistuslinkki on jo käytetty.
email-change-link-unknown = Tämä vahvistuslinkki ei kelpaa. Pyydä uusi profiilisivultasi.
email-change-other-account = Tämä linkki kuuluu toiselle Tunnus-identiteetille kuin tässä kirjautuneelle. Kirjaudu ensin ulos ja avaa linkki sitten uudelleen.
email-change-confirm-help = Otetaanko { $email } käyttöön osoitteena, jolla kirjaudut?
email-change-confirm = Vaihda sähköpostiosoitteeni
email-change-done = Sähköpostiosoitteesi on nyt { $email }. Kirjaudu jatkossa sillä.
profile-sessions = Missä olet kirjautuneena
profile-session-device = Selain
profile-session-ip = IP-osoite
profile-session-last-seen = Viimeksi aktiivinen
profile-session-this = tämä selain
profile-sign-out-everywhere = Kirjaudu ulos kaikkialta
profile-your-data = Tietosi
profile-download-data = Lataa tietoni (JSON)
delete-title = Poista tilini
delete-help = Tämä poistaa identiteettisi ja henkilötietosi, kirjaa sinut ulos kaikkialta ja päättää kaikkien palvelujen pääsyn. Jäsenyydet ja lisenssit poistuvat samalla. Poistoa ei voi perua.
delete-confirm = Ymmärrän, ettei poistoa voi perua.
delete-button = Poista tilini
delete-confirm-missing = Vahvista tilin poisto rastittamalla ruutu.
delete-done-title = Tilisi on poistettu
delete-done-body = Tunnus-identiteettisi ja henkilötietosi on poistettu, ja sinut on kirjattu ulos kaikkialta.
terms-accept-title = Päivitetyt ehdot
terms-accept-help = Olemme julkaisseet alla olevista asiakirjoista uudet versiot. Lue ja hyväksy ne jatkaaksesi.
terms-accept-terms = Käyttöehdot, versio { $version }
terms-accept-privacy = Tietosuojaseloste, versio { $version }
terms-accept-check = Olen lukenut asiakirjat ja hyväksyn ne.
terms-accept-button = Hyväksy ja jatka
terms-accept-missing = Hyväksy asiakirjat rastittamalla ruutu, tai sulje sivu lopettaaksesi.
terms-accept-changed = Uudempi versio julkaistiin sivun ollessa auki. Tutustu siihen.
email-confirm-email-change-subject = Vahvista uusi Tunnus-sähköpostiosoitteesi
email-confirm-email-change-body = Pyysit, että kirjaudut Tunnukseen jatkossa tällä sähköpostiosoitteella. Vahvista osoite avaamalla alla oleva linkki.
email-confirm-email-change-button = Vahvista sähköpostiosoite
email-email-change-notice-subject = Tunnus-sähköpostiosoitteesi on vaihtumassa
email-email-change-notice-body = Tunnus-identiteettiisi kirjautunut henkilö pyysi vaihtamaan sen sähköpostiosoitteen. Vaihto tapahtuu vain, jos uuteen osoitteeseen lähetetty linkki avataan. Jos et tehnyt pyyntöä itse, vaihda salasanasi heti.
email-email-change-notice-button = Vaihda salasanani
profile-session-unknown = tuntematon selain

## Ulkoiset tunnistautumispalvelut ("Kirjaudu palvelulla …")
sign-in-with = Kirjaudu palvelulla { $provider }
sign-in-or = Tai kirjaudu tilillä, joka sinulla jo on:
upstream-error-title = Kirjautuminen ei onnistunut
upstream-unknown = Tällaista kirjautumistapaa ei ole.
upstream-unreachable = Toiseen palveluun ei juuri nyt saada yhteyttä. Yritä hetken päästä uudelleen tai kirjaudu sähköpostiosoitteella ja salasanalla.
upstream-bad-state = Tätä kirjautumispyyntöä ei tunneta, se on vanhentunut tai jo käytetty. Aloita alusta kirjautumissivulta.
upstream-refused = Toinen palvelu ei kirjannut sinua sisään (ehkä peruutit). Aloita alusta kirjautumissivulta.
upstream-invalid = Toisen palvelun vastausta ei voitu varmentaa. Aloita alusta kirjautumissivulta.
upstream-unverified-email = Toinen palvelu ei ole vahvistanut sähköpostiosoitettasi, joten sillä ei voi kirjautua tänne. Vahvista osoite siellä tai luo sillä Tunnus-tili.
upstream-linked-elsewhere = Tämä tili on jo liitetty toiseen Tunnus-identiteettiin.
upstream-prove-title = Onko tämä identiteetti sinun?
upstream-prove-intro = Osoitteella { $email } on jo Tunnus-identiteetti. Liittääksesi kirjautumisesi siihen osoita, että se on sinun: anna sen salasana tai tilaa vahvistuslinkki tuohon osoitteeseen.
upstream-prove-password = Liitä salasanallani
upstream-prove-email = Lähetä minulle vahvistuslinkki
upstream-prove-no-password = Tällä identiteetillä ei vielä ole salasanaa. Käytä sähköpostiin lähetettävää vahvistuslinkkiä.
upstream-proof-expired = Tämä vahvistus on vanhentunut tai jo käytetty. Aloita alusta kirjautumissivulta.
upstream-proof-sent = Lähetimme vahvistuslinkin osoitteeseen. Avaa se tunnin kuluessa liittääksesi tilit.
upstream-linked-title = Tilit liitetty
upstream-linked-body = Voit nyt kirjautua palvelulla { $provider }.
upstream-unlink-refused-title = Tätä liitosta ei voi poistaa
upstream-unlink-refused-body = Se on ainoa tapasi kirjautua. Aseta ensin salasana (Unohditko salasanan? kirjautumissivulla) tai liitä toinen tili.
back-to-profile = Takaisin profiiliin
profile-linked = Liitetyt kirjautumistilit
profile-link = Liitä { $provider }
profile-unlink = Poista liitos
profile-unlink-last = (ainoa tapasi kirjautua)
federated-refused-title = { $client } edellyttää Tunnus-salasanaa
federated-refused-body = Kirjauduit toisen palvelun tilillä. { $client } hyväksyy vain identiteetit, joilla on myös oma Tunnus-salasana.
federated-refused-remedy = Aseta salasana kohdasta "Unohditko salasanan?": lähetämme sinulle linkin. Sen jälkeen sama identiteetti toimii kaikissa palveluissa.
email-confirm-upstream-link-subject = Liitä { $org } -kirjautumisesi Tunnukseen
email-confirm-upstream-link-body = Joku kirjautui palvelulla { $org } tällä sähköpostiosoitteella ja pyysi liittämään sen Tunnus-identiteettiisi. Salli liitos avaamalla alla oleva linkki. Jos tämä et ollut sinä, jätä viesti huomiotta: mikään ei muutu.
email-confirm-upstream-link-button = Liitä tilit
