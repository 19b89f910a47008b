"""Patterns over accent-folded text (``dates_fr.fold_keep``): administrations, private
counterparts, the person's role, decision types (pure data; no I/O).

Each entry is ``(normalised kind, regex)``; the first regex group, when present, is a place name.
"""

from __future__ import annotations

import re

# A place after « de / du / d' / des »: one word (hyphens allowed) and « sur/sous/en/les X ».
_PLACE = (r"(?: (?:de la|de l'|du|des|de)\b|(?: ?d'))\s?"
          r"([a-z][a-z'-]*[a-z](?: (?:sur|sous|les)[- ][a-z][a-z-]*)?)")
_STOP_PLACES = {
    "la", "le", "les", "l", "mon", "ma", "mes", "son", "sa", "ses", "notre", "votre", "leur",
    "qui", "que", "quoi", "m", "me", "a", "au", "aux", "pour", "et", "ou", "car", "mais", "un",
    "une", "moins", "plus", "peine", "environ", "proximite", "cote", "quelques", "pres",
    "l'ecart", "distance", "pied", "velo", "domicile", "bout", "temps", "peu", "cheval", "deux",
    "trois", "quatre", "cinq", "dix", "cent", "mille", "l'heure", "l'etranger", "l'hopital",
    "l'ecole", "l'epoque", "cause", "nouveau", "part", "vie", "jour", "mi-temps", "plein",
    "police", "sejour", "travail", "ville", "commune", "secteur", "quartier", "permis", "construire", "rejet", "fermeture", "refus", "etat",  # noqa: E501
}

# « permis » that is no building permit (driving, hunting, fishing, weapons, stay).
NOT_BUILDING_PERMIT = (r".{0,12}(?:conduire|chasse|chasser|peche|port d|detention|de sejour)"
                       r"|.{0,40}(?:points?\b|48 ?si\b|invalid)")

_REGIONS = (r"occitanie|bretagne|normandie|grand est|hauts-de-france|ile-de-france|"
            r"nouvelle-aquitaine|auvergne-rhone-alpes|paca|bourgogne-franche-comte|"
            r"centre-val de loire|pays de la loire|corse")

ADMINISTRATIONS: tuple[tuple[str, str], ...] = (
    ("prefecture", r"\b(?:sous[- ])?pr[eé]f(?:ecture|et|ete|ecure|ectur)s?\b(?:" + _PLACE + r")?"),
    ("metropole", r"\bmetropole\b(?:" + _PLACE + r")?"),
    ("intercommunalite", r"\b(?:communaute (?:de communes|d'agglomeration|urbaine)|agglo(?:meration)?"  # noqa: E501
     r"|epci)\b(?:" + _PLACE + r")?"),
    ("departement", r"\b(?:conseil departemental|departement|cd)\b(?:" + _PLACE + r")?"),
    ("region", r"\b(?:conseil regional|region)\b(?:" + _PLACE + r"| (" + _REGIONS + r"))?"),
    ("rectorat", r"\b(?:rectorat|academie|education nationale|inspection academique)\b"
     r"(?:" + _PLACE + r")?"),
    ("hopital_public", r"\b(?:chu|chr|ap-?hp|hopital public|centre hospitalier|hopital)\b"
     r"(?:" + _PLACE + r")?"),
    ("ministere", r"\bminist(?:ere|re)\b(?: (?:de l'|de la|des|du|de) ?([a-z-]+))?"),
    ("universite", r"\b(?:universite|fac)\b(?:" + _PLACE + r")?"),
    ("france_travail", r"\b(?:pole emploi|france travail)\b"),
    ("caf", r"\bcaf\b"),
    ("urssaf", r"\burssaf\b"),
    ("ofii", r"\bofii\b"),
    ("ofpra", r"\b(?:ofpra|cnda|cour nationale du droit d'asile)\b"),
    ("ars", r"\b(?:ars|agence regionale de (?:la )?sante)\b(?: (?:d'|de |du |de la )?("
     + _REGIONS + r"))?"),
    ("gendarmerie", r"\bgendarm(?:erie|es?)\b"),
    ("police", r"\b(?:police (?:nationale|municipale)|commissariat|la police|les flics|flics)\b"),
    ("sncf_reseau", r"\bsncf reseau\b"),
    ("etat", r"\b(?:l'etat|administration fiscale|impots|dgfip|finances publiques|tresor public"
     r"|fisc)\b"),
    # Public bodies other than the State and the local authorities (a CROUS, a CCAS, a SDIS, a
    # water board…): an administration all the same.
    ("etablissement_public", r"\b(?:crous|ccas|cias|sdis|ademe|onf|office national des forets|"
     r"voies navigables de france|chambre d'agriculture|chambre de commerce|cci|syndicat (?:mixte|"
     r"intercommunal|des eaux|d'assainissement|d'electricite|d'energie|departemental|"
     r"d'ordures|de traitement)|office public de l'habitat|etablissement public)\b"),
    ("commune", r"\b(?:mairie|commune|ville|municipalite|conseil municipal|maire|arrete "
     r"municipal|police du maire)\b"
     r"(?:" + _PLACE + r")?"),
)

PRIVATE_PARTIES: tuple[tuple[str, str], ...] = (
    ("employeur_prive", r"\b(?:mon (?:patron|employeur|boss|chef)|ma boite|mon entreprise m'a|"
     r"entreprise privee|societe privee|mon ancien employeur|licencie par (?:mon|ma|la societe))"
     r"|(?<!ma )(?<!mon )(?<!notre )\b(?:sarl|sasu?|eurl)\b"
     r"|\bla societe (?!publique|d'economie mixte|nationale)\w+"),
    ("bailleur", r"\b(?:proprietaire|proprio|bailleur|agence immobiliere|mon loyer|ma caution|"
     r"syndic|(?:mon|ma|mes|notre|nos) locataires?|loyers? impayes?)\b"),
    ("assurance", r"\b(?:assurance|assureur|mutuelle)\b"),
    ("banque", r"\b(?:banque|bancaires?|credit|pret immobilier|huissier|dettes?|"
     r"prelevements? (?:de|d'un|sur)|organisme de credit)\b"),
    ("famille", r"\b(?:divorce|ex[- ]?(?:mari|femme|conjoint|compagnon|compagne)|garde (?:de|des)"
     r" (?:mon|ma|mes|enfants?)|pension alimentaire|heritage|succession|tutelle|curatelle|"
     r"heritiers?|heritieres?|indivision|testament|donation|mes parents sont decedes)\b"),
    ("commercant", r"\b(?:vendeur|vendeuse|garagiste|artisan|operateur|colis|remboursement de ma "
     r"commande|site internet m'a|demarcheurs?|demenageurs?|plombier|electricien|forfait|"
     r"abonnement|salle de sport|agence de voyages?|l'entreprise de|une entreprise de|"
     r"le magasin|la boutique|concessionnaire|mon fournisseur|e-commer\w*)\b"),
    ("travail_prive", r"\b(?:contrat de travail|mon cdi|mon cdd|prud'?hom\w*|rupture "
     r"conventionnelle|mon manager|ma manageuse|mes heures sup\w*)\b"),
    ("particulier", r"\b(?:d'un|un|une|d'une) particulier(?:e)?\b"),
    ("voisin", r"\b(?:mon|ma|mes|du|de mon|de ma|des) voisine?s?\b"),
)

# The person's role; the first match in this order wins.
ROLES: tuple[tuple[str, str], ...] = (
    ("entreprise_candidate", r"\b(?:notre|ma|mon) (?:societe|entreprise|boite|bureau d'etudes|"
     r"sarl|sas)\b.{0,80}\b(?:appel d'offres?|marche|offre|candidat|consultation|rejet)|\b(?:notre offre|"  # noqa: E501
     r"nous avons (?:candidate|repondu)|on a repondu|on (?:n'?)?a pas ete retenu|"
     r"nous n'avons pas ete retenus?|(?:on|nous) a(?:vons)? recu .{0,40}lettre de rejet|"
     r"notre candidature)"),
    ("electeur", r"\bj'?ai vote\b|\b(?:simple |en tant qu'|je suis )(?:electeur|electrice)\b|"
     r"\bsimple electeur\b"),
    ("candidat", r"\b(?:j'etais|je suis|j'?etait|etant) (?:candidate?|tete de liste)|\bma liste\b|"
     r"\b(?:j'etais|je suis|j'?etait|on etait|nous etions|j'?ai ete) (?:sur|en tete de|en \w+ "
     r"position sur) (?:la|une|notre) liste\b|"
     r"\bnotre liste\b|\bcandidate? (?:aux|a l'election|sur la liste)"),
    ("elu", r"\b(?:je suis|j'?suis|en tant qu') ?(?:le |la |un |une )?(?:maire|adjointe? au maire|"
     r"conseill(?:er|ere) (?:municipal|municipale|departemental|regional)e?|elue?)\b|"
     r"\belue? d'opposition\b"),
    ("agent_public", r"\b(?:je suis|j'?suis|etant|je travaille comme|en tant qu'?) ?(?:un |une )?"
     r"(?:fonctionnaire|agente?(?: public| territorial| de la ville| hospitalier)?|contractuelle?|"
     r"prof(?:esseur)?|enseignante?|infirmiere?|aide-soignante?|policiere?|gendarme|atsem|"
     r"titulaire|stagiaire|adjointe? (?:technique|administratif|administrative|d'animation)"
     r"(?: territorial| territoriale)?)\b|\b(?:ma titularisation|mon administration|mon poste a la "
     r"mairie|je travaille (?:a|pour) la (?:mairie|region|prefecture)|fonctionnaire (?:de l'etat|"
     r"territoriale?|hospitaliere?)|agent (?:public|territorial|titulaire|contractuel))"),
    ("association", r"\b(?:notre|mon|l') ?association\b|\b(?:presidente?|tresoriere?|"
     r"secretaire|membre|benevole) (?:d'une |de l'|de notre |de mon |d'un )?(?:asso|association|"
     r"collectif)\b|\bnotre asso\b|\bje suis dans (?:une|l'|un) (?:asso|association|collectif)\b"),
    ("entreprise", r"\b(?:ma|notre|mon) (?:societe|entreprise|restaurant|bar|commerce|boulangerie|"
     r"snack|epicerie|kebab|garage|camion|food truck|resto|micro-entreprise|carriere|exploitation|"
     r"terrasse|pme|start-?up|hotel|salon|boite)\b|\bpour (?:le|mon|notre) resto\b|\bje suis "
     r"(?:gerante?|artisan|commercante?|auto-?entrepreneur|exploitante?)|"
     r"\bexploitante? (?:de|du|d')"),
    ("proche", r"\b(?:pour |de )?(?:mon|ma) (?:fils|fille|mari|femme|epouse|frere|soeur|pere|mere|"
     r"cousine?|oncle|tante|neveu|niece|copain|copine|compagnon|compagne|ami|amie|beau-frere|"
     r"belle-soeur)\b(?! m'a)"),
    ("voisin", r"\b(?:je suis (?:le |un |la |une )?(?:voisine?|riveraine?)|mon voisin (?:a|va) "
     r"(?:obtenu|eu|construire|un permis|agrandir)|(?:mon|ma|mes|nos) voisine?s? (?:construit|"
     r"construisent|agrandit|agrandissent|surel\w*|fait construire|font construire|a depose|"
     r"ont depose)|(?:on|j'|nous) habit\w* a \d+ ?(?:m|metres)\b|"
     r"en face de chez (?:moi|nous)|(?:pres|tout pres|non loin) de chez (?:moi|nous)|"
     r"a cote de chez "
     r"(?:moi|nous)|juste derriere chez (?:moi|nous)|riverains?)\b"),
    ("particulier", r"\b(?:je suis (?:un |une )?(?:simple )?(?:particulier|particuliere|citoyen|"
     r"citoyenne)|en tant que particulier|habitante? de|contribuable)\b"
     r"|" + r"\b(?:je suis|j'?suis|nous sommes|on est|en tant que|c'est moi) (?:le |la |l'|les )?"
     r"(?:proprietaires?|proprio|maitre|maitresse|detent(?:eur|rice)|usager|usagere)\b"
     r"|\b(?:c'est|ce sont|il s'agit de) (?:mon|ma|mes|notre|nos) (?:chiens?|chienne|chats?|"
     r"chevaux|cheval|animaux|animal|voiture|vehicule|maison|terrain|bateau)\b"),
)

# Social benefits and what is done to them (« la caf m'a suspendu mon rsa », « mes APL ont été
# supprimées »): the kind prestation_sociale.
_BENEFITS = (r"rsa|apl|aah|prime d'activite|allocations? (?:logement|familiales?|adulte handicape|"
             r"aux adultes handicapes|de solidarite specifique)|aides? au logement|"
             r"revenu de solidarite(?: active)?")
_BENEFIT_ACTS = (r"suspen\w*|supprim\w*|suppression|radi\w*|coupe\w*|stoppe\w*|arret\w*|"
                 r"refus\w*|retir\w*|retrait|baiss\w*|reduction|reduit\w*|diminu\w*")


_NOT_A_SERVICE = (r"(?!(?:ecole|classe|creche|college|lycee|bureau de poste|poste|piscine|gare|"
                  r"bibliotheque|mediatheque|maternite|urgences)\b)")

DECISIONS: tuple[tuple[str, str], ...] = (
    # At the border: a refusal of entry, the zone d'attente, an asylum claim there.
    ("refus_entree", r"\b(?:zone d'attente|refus d'entree|non[- ]admission|refoule\w*|"
     r"police aux frontieres|\bpaf\b)"),
    ("asile", r"\b(?:demande d'asile|demandeur d'asile|(?:l'|d')asile|refugiee?s?|protection "
     r"subsidiaire|ofpra|cnda|dublin)\b"),
    ("naturalisation", r"\b(?:naturalis\w*|nationalite francaise|decret de naturalisation)\b"),
    ("visa", r"\b(?:refus\w* (?:de |du |d'un |de mon |de ma |mon |ma |le |son |sa )?visa|visa "
     r"(?:a ete |m'a ete |lui a ete )?refuse)"),
    # The act itself (« arrêté de cessibilité », the DUP) before the verb (« m'exproprier »).
    ("expropriation", r"\b(?:(?:arrete de )?cessibilite|declaration d'utilite publique|\bdup\b|"
     r"ordonnance d'expropriation)"),
    ("expropriation", r"\bexpropri\w*"),
    ("preemption", r"\b(?:preempt\w*|droit de preemption)\b"),
    # Driving-licence points (« lettre 48SI », « solde de points nul »): a decision of the
    # Ministry of the Interior, no building permit.
    ("retrait_points", r"\b(?:48 ?si|48 ?n|solde (?:de points )?nul|retrait (?:de |des )?points|"
     r"perte (?:de |des |de tous mes |de mes )?points|(?:perdu|retire) (?:\w+ )?points|"
     r"(?:mon |le )?permis (?:est |a ete |m'a ete )?invalide|invalidation (?:de |du )?(?:mon |le )?"
     r"permis)"),
    # A student grant (CROUS, the Ministry): a public body's decision.
    ("bourse", r"\b(?:bourses? (?:sur criteres sociaux|d'etudes?|etudiantes?|scolaires?|du crous|"
     r"au merite|d'enseignement superieur)|(?:refus\w*|supprim\w*|retir\w*|suspen\w*|coup\w*) "
     r"(?:de |d'|du |ma |mon |la |sa |son |leur )?(?:droit a (?:la |ma )?)?bourse|"
     r"bourse (?:a ete |m'a ete |est |lui a ete )?(?:refus|supprim|retir|suspend|coupe))"),
    # The right to housing (DALO): the mediation commission (the préfet), not a landlord.
    ("dalo", r"\b(?:dalo|commission de mediation|droit au logement opposable)\b"),
    # A health authority's licence (ARS): a pharmacy's transfer or opening.
    ("autorisation_sante", r"\b(?:transf\w* (?:de |d')?(?:la |ma |mon |l'|notre |son |sa |une )?"
     r"(?:pharmacie|officine)|licence (?:de |d')(?:pharmacie|officine)|(?:ouverture|creation) "
     r"(?:d'une |de la |de ma )?(?:pharmacie|officine))"),
    # An order to leave a place (travellers' caravans, a camp): a préfet's police measure.
    ("evacuation", r"\b(?:mise en demeure de (?:quitter|partir|evacuer|liberer)|(?:font|faire|"
     r"fera|vont) evacuer|evacuation (?:forcee|du terrain|du campement|des caravanes|du squat)|"
     r"\d+ ?h(?:eures)? pour (?:partir|quitter|degager|evacuer))"),
    # Weapons taken from their holder by the préfet (CSI L. 312-7 ff.): a police measure.
    ("armes", r"\b(?:(?:interdi\w*|interdiction) (?:de |d')?(?:detenir|posseder|acquerir|avoir|"
     r"porter) (?:des |d'|une |mes |ses )?(?:armes?|fusils?)|dessaisi\w*|(?:remise?|remettre|"
     r"saisie?|saisir|recuperer) (?:de |des |d')?(?:mes |ses |leurs |les )?(?:\d+ )?(?:armes|"
     r"fusils)|(?:mes|ses|les) (?:\d+ )?(?:armes|fusils) (?:a |aux )?(?:remettre|saisi\w*)|"
     r"fichier (?:national )?des (?:interdits|personnes interdites))"),
    ("oqtf", r"\b(?:oqtf|o\.q\.t\.f|obligation de quitter|m'oblige\w* a quitter|"
     r"(?:oblige|obligee?s?|ordre) (?:a|de) quitter (?:le territoire|la france))"),
    ("refus_titre_sejour", r"\b(?:refus\w* (?:de |du |d'un |de mon |de ma |mon |ma |le |la )?"
     r"(?:titre|carte|renouvel\w* (?:de |du |d')?(?:mon |ma |son |sa |leur |notre |le |la )?"
     r"(?:titre|carte|sejour|recepisse))|(?:titre|carte) de sejour (?:a ete |est )?refus|"
     r"(?:titre|carte) (?:de sejour )?(?:pas|non) renouvel|ont refuse (?:le |mon |ma )?"
     r"(?:titre|carte|renouvellement (?:de |du )?(?:mon |ma |son |sa |leur |le |la )?"
     r"(?:titre|carte|sejour)))"),
    ("irtf", r"\binterdiction de retour\b|\birtf\b"),
    ("eloignement", r"\b(?:expulsion|reconduite? a la frontiere|expulse)\b"),
    ("refus_permis", r"\b(?:refus\w* (?:de |du |d'un |de mon |de ma |le |la |mon |ma |notre |nos "
     r"|son |sa |leur |cette |de notre |de leur )?(?:demande "
     r"de )?(?:permis|"
     r"declaration prealable)|permis (?:de construire )?(?:a ete |m'a ete )?refuse)"),
    ("permis_construire", r"\b(?:permis de construire|permis d'amenager|declaration prealable|"
     r"permis de demolir)\b|\bpermis\b(?!" + NOT_BUILDING_PERMIT + r")|\bpanneau\b"
     r"(?! (?:solaire|photovol))"),
    # Not the closing of a public service (a school, a class, a post office): the council's.
    ("fermeture_administrative", r"\b(?:fermeture (?:administrative|de (?:mon|notre|l')"
     + _NOT_A_SERVICE + r"\w*)|arrete de fermeture|fermer (?:mon|notre|le|l')" + _NOT_A_SERVICE
     + r"\w*|ferme administrativement)"),
    ("interdiction_manifestation", r"\binterdi\w* (?:de )?(?:la |notre )?manif|\bmanif\w*\b.{0,100}"
     r"\b(?:l'|l |la )?interdi(?:re|te|t|ction)\b"),
    ("suspension_permis_conduire", r"\b(?:suspension|retrait|suspendu|retire|annulation|annule|"
     r"invalidation|invalide) (?:de |du )?(?:mon |ma |son |le )?permis de conduire\b|\bpermis de "
     r"conduire (?:a ete |est |m'a ete )?(?:suspendu|retire|annule|invalide)"),
    # A police measure on an animal (dangerous dog, impounding, euthanasia): read only with an
    # animal named in the message (actions/facts.py), a vehicle's fourrière is another matter.
    ("mesure_animal", r"\b(?:fourriere|euthanasi\w*|dangerosite|(?:chiens?|animal|animaux) "
     r"(?:dangereux|mordeurs?|de (?:1re|2e|premiere|deuxieme) categorie)|evaluation "
     r"comportementale|abattage|(?:faire )?abattre|(?:saisi\w*|placement|placer|retrait|retir\w*|"
     r"confisc\w*|enlev\w*|emmen\w*|prendre)\b[^.,;!?]{0,25}\b(?:chiens?|chienne|chats?|chevaux|"
     r"cheval|animaux|animal|betail|troupeau|moutons|chevres|vaches|brebis))"),
    ("service_public_local", r"\b(?:cantine|restauration scolaire|transport (?:scolaire|adapte)|"
     r"periscolaire|creche|centre de loisirs|garderie|inscription (?:a l'ecole|scolaire)|"
     r"emplacement (?:au|sur le|du|de) marche|(?:mon|ma|notre|l'|un|d') ?(?:autorisation d')?"
     r"emplacement|droits? de place|(?:place|stand|etal) (?:au|sur le|"
     r"du) marche|salle (?:des fetes|municipale|communale|polyvalente))\b"),
    ("revocation", r"\b(?:revocation|revoquee?)\b"),
    ("sanction_disciplinaire", r"\b(?:sanction|sanctionnee?s?|blame|avertissement|exclusion "
     r"temporaire|mise a pied|conseil de discipline|disciplinaire)\b"),
    ("licenciement", r"\b(?:licenciement|licenciee?|vire|viree|non[- ]renouvellement de (?:mon )?"
     r"contrat|fin de contrat)\b"),
    ("refus_titularisation", r"\brefus\w* (?:de )?(?:ma )?titularisation\b"),
    ("rejet_offre", r"\b(?:lettre de rejet|offre (?:a ete |est )?(?:rejetee|ecartee|pas retenue)|"
     r"(?:pas|non) (?:ete )?retenue?s?|attribue a (?:un|une|notre) (?:concurrent|autre))"),
    ("attribution_marche", r"\b(?:attribution du marche|marches? publics?|appel d'offres?|avis "
     r"d'attribution|boamp|delegation de service public|\bdsp\b|(?:un |le |ce )marche (?:de |d')"
     r"(?:travaux|fournitures?|services?|maintenance|nettoyage|videoprotection|"
     r"videosurveillance|restauration|transport|\w+ion\b))"),
    ("resultats_election", r"\b(?:elections?|scrutin|municipales|"
     r"depouillement|bulletins?|proces-verbal de vote|liste electorale|referendum|"
     r"consultation (?:locale|des (?:habitants|electeurs))|bureau de vote)\b"),
    ("rejet_reclamation", r"\b(?:(?:rejet\w*|refus\w*) (?:de |d'une |d'un )?(?:ma |la |notre |mon "
     r"|leur |sa )?(?:reclamation|recours gracieux|demande prealable|contestation)|(?:reclamation|"
     r"contestation|recours gracieux)\b[^.,;!?]{0,60}? (?:rejetee?|refusee?))\b"),
    ("redressement_fiscal", r"\b(?:redressement|rappel d'impots?|controle fiscal|"
     r"proposition de rectification)\b"),
    ("avis_imposition", r"\b(?:avis d'imposition|taxe fonciere|taxe d'habitation|cfe|teom|"
     r"taxe d'ordures|impot|taxe (?:annuelle )?sur les logements vacants|tlv|thlv|"
     r"taxe d'amenagement|taxe de sejour)\b"),
    ("dommage_travaux_publics", r"\b(?:nid[- ]de[- ]poule|trou (?:dans|sur) (?:la|le) "
     r"(?:chaussee|route|trottoir)|travaux (?:de voirie|publics|de la (?:ville|mairie|metropole))|"
     r"chaussee|trottoir|canalisation|egout|racine)"),
    ("accident", r"\b(?:accident|chute|suis tombee?|tombee?|blesse)"),
    ("autorisation_environnementale", r"\b(?:eolien\w*|icpe|autorisation environnementale|"
     r"elevage intensif|carriere|methaniseur|porcherie|poulailler|elevages? (?:de|industriel|"
     r"porcin|bovin|avicole|laitier|intensif)|"
     r"installation classee|usine d'incineration|incinerateur|plan d'epandage)\b"),
    ("indu_prestation", r"\b(?:indu|trop[- ]percu|rembourse\w* (?:de |d'un |l'|le |mon |ma )?"
     r"(?:rsa|apl|allocations?|prime d'activite|aides?))\b"),
    # A social benefit suspended, cut or refused (RSA: the département; CAF/MSA decisions on
    # its behalf), not a civil servant's suspension.
    ("prestation_sociale", r"\b(?:" + _BENEFIT_ACTS + r") (?:de |du |d'|l'|le |la |les |mon |ma |"
     r"mes |notre |nos |son |sa |ses |leur |leurs )?(?:" + _BENEFITS + r")\b|\b(?:"
     + _BENEFITS + r") (?:a ete |est |m'a ete |ont ete |sont |a |ont )?(?:" + _BENEFIT_ACTS
     + r")\b"),
    ("refus_demande", r"\b(?:refus|refusee?|rejet|rejetee?)\b"),
    # A withdrawal, a suppression, a suspension: read only when nothing more precise is named,
    # with the person's words (« m'a retiré ma place de stationnement résidentiel »).
    ("retrait", r"\b(?:retire\w*|retrait|supprime\w*|suppression|suspendu\w*|suspension|"
     r"annule\w*|annulation|resilie\w*|resiliation)\b"),
    # No answer to a request: an implicit rejection (CRPA L. 231-4), the decision to challenge.
    ("silence", r"\b(?:pas de reponse|sans reponse(?! (?:claire|precise|valable|satisfaisante))|"
     r"aucune reponse|jamais (?:eu de )?reponse|"
     r"(?:n'a|n'ont|ne m'a|ne m'ont|ne nous a|ne nous ont) (?:jamais |toujours pas |pas )"
     r"(?:repondu|eu de reponse)|toujours rien recu|silence de l'administration)\b"),
)

NEGATION_BEFORE = re.compile(
    r"(?:\bn'|\bne |\bpas |\bjamais |\baucune? |\bsans |\bni |\btoujours pas |\bpas encore |"
    r"\bnon )(?:\w+[ ']\s?){0,3}$"
)


def place_ok(place: str | None) -> str | None:
    """A captured place name, or None when it is an ordinary word."""
    if not place:
        return None
    first = place.split()[0].strip("'-")
    return None if first in _STOP_PLACES or len(first) < 2 else place
